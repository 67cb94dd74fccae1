package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CI sample of the I/O-fault campaign ({@link IoFaultCampaign}): a fixed seed set, for every
 * store the campaign knows. {@code -Dchaos.seed=N -Dchaos.runs=M} runs another set or the full run.
 */
class IoFaultCampaignTest {

  private static final Logger log = LoggerFactory.getLogger(IoFaultCampaignTest.class);

  @Test
  void randomIoFaultsAndPowerCutsNeverLeaveAnUnsafeBootOrLoseAConfirmedImage() {
    long seed = Long.getLong("chaos.seed", 19_000L);
    int runs = Integer.getInteger("chaos.runs", 300);
    for (CampaignStore store : CampaignStore.all()) {
      IoFaultCampaign.Summary s = IoFaultCampaign.campaign(store, seed, runs);
      s.failureLines.forEach(log::error);
      log.info("\n{}", s.table());
      assertThat(s.failureLines).as("failing runs (each line names the seed that reproduces it)").isEmpty();
      // a campaign that injects nothing proves nothing
      assertThat(s.runsWithFaults).as("runs with a fault injected").isGreaterThan(runs * 3 / 4);
      for (ChaosMedium.Fault kind : ChaosMedium.Fault.values()) {
        assertThat(s.byKind.getOrDefault(kind, 0L)).as("faults of kind %s injected", kind).isPositive();
      }
      assertThat(s.installed).as("updates that got through").isPositive();
    }
  }
}
