package io.otaflux.lwm2m;

import java.util.Collection;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands items to a consumer one at a time, in the order they were queued, with no lock held:
 * whichever thread finds the outbox idle delivers what is queued, including what other threads
 * (or the consumer itself) queue meanwhile; the others return at once. A consumer that throws is
 * logged, and delivery goes on.
 *
 * @param <T> the items
 */
final class Outbox<T> {

  private static final Logger log = LoggerFactory.getLogger(Outbox.class);

  private final Queue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger delivering = new AtomicInteger();
  private final Consumer<T> consumer;

  Outbox(Consumer<T> consumer) {
    this.consumer = consumer;
  }

  /** Queues items without delivering them (under a caller's lock, to keep its order). */
  void queue(Collection<? extends T> items) {
    queue.addAll(items);
  }

  /** Queues an item and delivers. */
  void send(T item) {
    queue.add(item);
    deliver();
  }

  /** Delivers what is queued, unless another thread is delivering (it delivers ours too). */
  void deliver() {
    if (delivering.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      T next;
      while ((next = queue.poll()) != null) {
        try {
          consumer.accept(next);
        } catch (RuntimeException e) {
          log.warn("Delivering {} failed: {}", next, e.toString());
        }
      }
      missed = delivering.addAndGet(-missed);
    } while (missed != 0);
  }
}
