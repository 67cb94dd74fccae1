package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;

import org.junit.jupiter.api.Test;

/** Defects the I/O-fault campaign ({@link IoFaultCampaign}) found, each named after what now holds. */
class IoFaultRegressionTest {

  /** Campaign seed 19067: init failed at its directory sync; init again opened the store without making it durable. */
  @Test
  void anInitRunAgainAfterItsDirectorySyncFailedMakesTheStoreDurableBeforeUsingIt() {
    CrashMedium crash = CrashMedium.reliable();
    ChaosMedium medium = new ChaosMedium(crash, new Random(1), 0).forceNext(ChaosMedium.Fault.EIO_SYNC_DIRECTORY);
    assertThatThrownBy(() -> CampaignStore.FILE.create(medium))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
    // the user (or openOrInit in an agent) runs init again: it finds the store and uses it
    CampaignStore.FILE.create(medium);
    assertThat(CampaignStore.FILE.open(medium).status().block()).isEqualTo(BootRules.initial(CampaignStore.CAPACITY));
    // the power goes, losing whatever was not synced: the store is still there
    CrashMedium rebooted = crash.reboot(CrashMedium.Survival.NOTHING, 1);
    StoreStatus status = CampaignStore.FILE.open(rebooted).status().block();
    assertThat(status).isEqualTo(BootRules.initial(CampaignStore.CAPACITY));
    assertThat(CampaignStore.FILE.open(rebooted).boot().block()).isEqualTo(SlotId.A);
  }
}
