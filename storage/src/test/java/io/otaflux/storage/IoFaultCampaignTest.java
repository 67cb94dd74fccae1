package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CI sample of the I/O-fault campaign ({@link IoFaultCampaign}): a fixed seed set, for every
 * store the campaign knows (the file store 300 runs, the U-Boot and GRUB stores 150 each, every 5th
 * of those read back by {@code fw_printenv} / {@code grub-editenv}). The bootloader's last resort (no
 * slot left to try) booting a slot that holds no verified image is counted apart from the store's own
 * unsafe boots (see {@link IoFaultCampaign#LAST_RESORT}); the sample requires none of either. {@code -Dchaos.seed=N -Dchaos.runs=M} runs another set or the full run.
 */
class IoFaultCampaignTest {

  private static final Logger log = LoggerFactory.getLogger(IoFaultCampaignTest.class);

  @Test
  void randomIoFaultsAndPowerCutsNeverLeaveAnUnsafeBootOrLoseAConfirmedImage() {
    long seed = Long.getLong("chaos.seed", 19_000L);
    for (CampaignStore store : CampaignStore.all()) { // the file store first: it needs no tools
      if (store.hasBootloader()) {
        RealTools.require("fw_printenv", "grub-editenv");
      }
      // a bootloader run costs more (the environment's writes; fw_printenv or grub-editenv every 5th run)
      int runs = Integer.getInteger("chaos.runs", store.hasBootloader() ? 150 : 300);
      IoFaultCampaign.Summary s = IoFaultCampaign.campaign(store, seed, runs);
      s.failureLines.forEach(log::error);
      s.lastResortLines.forEach(log::warn);
      log.info("\n{}", s.table());
      assertThat(s.failureLines).as("failing runs (each line names the seed that reproduces it)").isEmpty();
      // a campaign that injects nothing proves nothing
      assertThat(s.runsWithFaults).as("runs with a fault injected").isGreaterThan(runs * 3 / 4);
      for (ChaosMedium.Fault kind : ChaosMedium.Fault.values()) {
        assertThat(s.byKind.getOrDefault(kind, 0L)).as("faults of kind %s injected", kind).isPositive();
      }
      assertThat(s.installed).as("updates that got through").isPositive();
      if (store.hasBootloader()) {
        assertThat(s.toolChecks).as("runs whose environment the bootloader's own tool read").isPositive();
        // the bootloader's last resort (no slot left to try) is reached, and the store keeps it on a good image
        assertThat(s.lastResortBoots).as("boots by the bootloader's last resort").isPositive();
        assertThat(s.lastResortLines).as("unsafe boots by the bootloader's last resort").isEmpty();
      }
    }
  }
}
