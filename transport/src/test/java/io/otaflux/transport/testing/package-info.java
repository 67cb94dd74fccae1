/**
 * Test fixtures other modules reuse through the transport test-jar: a BouncyCastle test PKI
 * ({@link io.otaflux.transport.testing.TestPki}), real Reactor Netty HTTPS servers with image,
 * redirect and fault routes ({@link io.otaflux.transport.testing.TestServer},
 * {@link io.otaflux.transport.testing.Routes}), an HTTPS server answering with hand-written bytes
 * ({@link io.otaflux.transport.testing.RawHttpsServer}), a TCP proxy that cuts, resets, stalls,
 * drips or flips a bit ({@link io.otaflux.transport.testing.FaultProxy}), and a JUnit extension failing a test class on a
 * Netty buffer leak ({@link io.otaflux.transport.testing.NoLeaks}, with
 * {@code -Dio.netty.leakDetection.level=paranoid
 * -Dio.netty.customResourceLeakDetector=io.otaflux.transport.testing.RecordingLeakDetector}).
 */
@NullMarked
package io.otaflux.transport.testing;

import org.jspecify.annotations.NullMarked;
