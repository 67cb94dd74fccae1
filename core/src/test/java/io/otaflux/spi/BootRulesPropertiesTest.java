package io.otaflux.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of activate / boot / mark-good / rollback / begin-writing / written / commit /
 * abort, each step possibly cut by the power (the state is then the one before the step, as a
 * store writes old or new, never neither), over {@link BootRules} itself: after every step the
 * device's invariant holds.
 */
class BootRulesPropertiesTest {

  private static final long CAPACITY = 1_000;

  /** What a step does. */
  enum Kind {
    BEGIN_WRITING, WRITTEN, COMMIT, ABORT, ACTIVATE, ACTIVATE_WRONG_DIGEST, ACTIVATE_RUNNING, BOOT, MARK_GOOD, ROLLBACK
  }

  /** One step: its kind, the image it uses, and whether the power goes before it lands. */
  record Step(Kind kind, int image, boolean cut) {
  }

  @Provide
  Arbitrary<List<Step>> sequences() {
    Arbitrary<Step> step = Combinators.combine(Arbitraries.of(Kind.class), Arbitraries.integers().between(1, 50),
        Arbitraries.integers().between(0, 9).map(i -> i == 0)).as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(60);
  }

  @Property(tries = 1000)
  void anySequenceWithPowerCutsKeepsABootableConfirmedImageAndRefusalsChangeNothing(
      @ForAll("sequences") List<Step> steps) {
    StoreStatus state = BootRules.initial(CAPACITY);
    List<String> trace = new ArrayList<>();
    check(state, trace);
    for (Step step : steps) {
      StoreStatus before = state;
      StoreStatus after;
      try {
        after = apply(before, step);
      } catch (OtaException e) {
        trace.add(step + " refused " + e.detail());
        assertThat(e.detail()).as("%s: a refusal names why", trace).isIn(allowedRefusals(step.kind()));
        assertThat(e.getMessage()).as("%s: a refusal says what to do", trace).isNotBlank();
        assertThat(state).as("%s: a refusal changes nothing", trace).isEqualTo(before);
        check(state, trace);
        continue;
      }
      trace.add(step + " -> " + describe(after));
      checkTransition(before, after, step, trace);
      // a power cut: the store wrote the old state or the new one, never neither
      state = step.cut() ? before : after;
      check(state, trace);
    }
  }

  private static StoreStatus apply(StoreStatus s, Step step) {
    switch (step.kind()) {
      case BEGIN_WRITING:
        return BootRules.beginWriting(s, 0);
      case WRITTEN:
        return BootRules.written(s, s.active().other(), Math.min(CAPACITY, step.image() * 7L));
      case COMMIT:
        return BootRules.commit(s, s.active().other(), image(step.image()));
      case ABORT:
        return BootRules.abort(s, s.active().other());
      case ACTIVATE: {
        SlotStatus other = s.slot(s.active().other());
        Sha256 digest = other.sha256() != null ? other.sha256() : image(step.image()).sha256();
        return BootRules.activate(s, s.active().other(), digest);
      }
      case ACTIVATE_WRONG_DIGEST:
        return BootRules.activate(s, s.active().other(), image(1000 + step.image()).sha256());
      case ACTIVATE_RUNNING:
        return BootRules.activate(s, s.active(), image(step.image()).sha256());
      case BOOT:
        return BootRules.boot(s);
      case MARK_GOOD:
        return BootRules.markGood(s);
      case ROLLBACK:
        return BootRules.rollback(s);
      default:
        throw new AssertionError(step.kind());
    }
  }

  private static Set<Detail> allowedRefusals(Kind kind) {
    switch (kind) {
      case BEGIN_WRITING:
        return EnumSet.of(Detail.TRIAL_RUNNING, Detail.REBOOT_PENDING);
      case ACTIVATE:
      case ACTIVATE_WRONG_DIGEST:
      case ACTIVATE_RUNNING:
        return EnumSet.of(Detail.NOT_ALLOWED_NOW, Detail.NOT_VERIFIED);
      case BOOT:
        return EnumSet.noneOf(Detail.class); // a good slot always exists: a boot is never refused
      default:
        return EnumSet.of(Detail.NOT_ALLOWED_NOW);
    }
  }

  /** What must hold in every state the device can be found in. */
  private static void check(StoreStatus s, List<String> trace) {
    long good = s.slots().values().stream().filter(x -> x.state() == SlotState.GOOD).count();
    assertThat(good).as("%s: a confirmed image always exists", trace).isPositive();
    SlotStatus choice = s.slot(s.next());
    assertThat(choice.state().isBootable()).as("%s: the boot choice %s boots", trace, choice).isTrue();
    assertThat(choice.state()).as("%s: the boot choice", trace)
        .isNotIn(SlotState.WRITING, SlotState.INVALID, SlotState.EMPTY);
    for (SlotStatus slot : s.slots().values()) {
      if (slot.state() == SlotState.TRIAL || (slot.state() == SlotState.GOOD && slot.size() > 0)) {
        assertThat(slot.sha256()).as("%s: a bootable image was verified", trace).isNotNull();
      }
      if (slot.state() == SlotState.TRIAL) {
        assertThat(slot.attempts()).as("%s: trial boots", trace).isBetween(0, BootRules.MAX_TRIAL_BOOTS);
      }
    }
    // what the next boot takes is bootable and verified too
    StoreStatus booted = BootRules.boot(s);
    SlotStatus running = booted.slot(booted.active());
    assertThat(running.state().isBootable()).as("%s: the slot the next boot takes", trace).isTrue();
  }

  /** What must hold of every step that was not refused. */
  private static void checkTransition(StoreStatus before, StoreStatus after, Step step, List<String> trace) {
    for (SlotId id : SlotId.values()) {
      SlotStatus was = before.slot(id);
      SlotStatus is = after.slot(id);
      if (was.state() == SlotState.GOOD && !(is.state() == SlotState.GOOD && same(was, is))) {
        // a confirmed image goes only when an update replaces it, and never the only one or the boot choice
        assertThat(step.kind()).as("%s: only an update replaces a confirmed image", trace)
            .isEqualTo(Kind.BEGIN_WRITING);
        assertThat(before.slot(id.other()).state()).as("%s: an update never writes the only good image", trace)
            .isEqualTo(SlotState.GOOD);
        assertThat(before.next()).as("%s: an update never writes the next boot choice", trace).isNotEqualTo(id);
        assertThat(before.active()).as("%s: an update never writes the running slot", trace).isNotEqualTo(id);
      }
      if (is.state() == SlotState.GOOD && was.state() != SlotState.GOOD) {
        assertThat(step.kind()).as("%s: only mark-good confirms", trace).isEqualTo(Kind.MARK_GOOD);
        assertThat(was.state()).as("%s: only a trial is confirmed", trace).isEqualTo(SlotState.TRIAL);
        assertThat(before.active()).as("%s: only the running trial is confirmed", trace).isEqualTo(id);
      }
      if (is.state() == SlotState.TRIAL && was.state() != SlotState.TRIAL) {
        assertThat(was.state()).as("%s: only a committed image is activated", trace).isEqualTo(SlotState.WRITING);
        assertThat(was.sha256()).as("%s: only a committed image is activated", trace).isNotNull();
      }
    }
    if (step.kind() == Kind.BEGIN_WRITING) {
      SlotId written = before.active().other();
      assertThat(after.next()).as("%s: an update does not move the boot choice", trace).isEqualTo(before.next());
      assertThat(after.slot(written).state()).isEqualTo(SlotState.WRITING);
      assertThat(after.slot(before.active())).as("%s: the running slot is untouched", trace)
          .isEqualTo(before.slot(before.active()));
    }
  }

  private static boolean same(SlotStatus a, SlotStatus b) {
    return a.size() == b.size() && java.util.Objects.equals(a.sha256(), b.sha256())
        && java.util.Objects.equals(a.version(), b.version());
  }

  private static ImageMetadata image(int n) {
    return new ImageMetadata(Math.min(CAPACITY, 100 + n), Sha256.digest(("image " + n).getBytes(StandardCharsets.UTF_8)),
        URI.create("https://fw.example/" + n), "v" + n);
  }

  private static String describe(StoreStatus s) {
    return "run " + s.active().label() + " next " + s.next().label() + " a=" + s.slot(SlotId.A).state().label()
        + "/" + s.slot(SlotId.A).attempts() + " b=" + s.slot(SlotId.B).state().label() + "/"
        + s.slot(SlotId.B).attempts();
  }
}
