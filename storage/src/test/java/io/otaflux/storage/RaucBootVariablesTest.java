package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.otaflux.SlotId;

import org.junit.jupiter.api.Test;

class RaucBootVariablesTest {

  private static final RaucBootVariables UBOOT = RaucBootVariables.UBOOT;
  private static final RaucBootVariables GRUB = RaucBootVariables.GRUB;

  private static Map<String, String> env(String... pairs) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  private static Map<String, String> apply(Map<String, String> env, Map<String, String> changes) {
    Map<String, String> out = new HashMap<>(env);
    out.putAll(changes);
    return out;
  }

  @Test
  void ubootActivateIsRaucSetPrimaryTheSlotFirstWithThreeAttempts() {
    Map<String, String> env = env("BOOT_ORDER", "A B", "BOOT_A_LEFT", "3", "BOOT_B_LEFT", "0");
    Map<String, String> changes = UBOOT.activate(env::get, SlotId.B);
    assertThat(changes).containsExactly(Map.entry("BOOT_B_LEFT", "3"), Map.entry("BOOT_ORDER", "B A"));
    RaucBootVariables.BootChoice choice = UBOOT.read(apply(env, changes)::get);
    assertThat(choice.order()).containsExactly(SlotId.B, SlotId.A);
    assertThat(choice.next()).contains(SlotId.B);
    assertThat(choice.attemptsLeft(SlotId.B)).isEqualTo(3);
    // other names in BOOT_ORDER (a recovery slot) keep their place after the primary, as RAUC does
    assertThat(UBOOT.activate(env("BOOT_ORDER", " A R B ")::get, SlotId.B)).containsEntry("BOOT_ORDER", "B A R");
    assertThat(UBOOT.activate(env()::get, SlotId.A)).containsEntry("BOOT_ORDER", "A B");
  }

  @Test
  void ubootReadsWhatTheBootScriptDidAfterThreeUnconfirmedBootsAsAFallback() {
    // U-Boot counted B down to 0 and booted A (whose counter it decremented too); BOOT_ORDER is untouched
    RaucBootVariables.BootChoice choice = UBOOT.read(env("BOOT_ORDER", "B A", "BOOT_A_LEFT", "2", "BOOT_B_LEFT",
        "0")::get);
    assertThat(choice.next()).contains(SlotId.A);
    assertThat(choice.isFallingBack()).isTrue();
    assertThat(choice.attemptsLeft(SlotId.B)).isZero();
  }

  @Test
  void ubootMarkGoodIsRaucSetStateGoodTheCounterBackToThreeTheOrderAsItIs() {
    Map<String, String> env = env("BOOT_ORDER", "B A", "BOOT_A_LEFT", "3", "BOOT_B_LEFT", "2");
    assertThat(UBOOT.markGood(env::get, SlotId.B)).containsExactly(Map.entry("BOOT_B_LEFT", "3"));
    Map<String, String> fellBack = env("BOOT_ORDER", "B A", "BOOT_A_LEFT", "2", "BOOT_B_LEFT", "0");
    Map<String, String> changes = UBOOT.markGood(fellBack::get, SlotId.A);
    assertThat(UBOOT.read(apply(fellBack, changes)::get).next()).contains(SlotId.A);
  }

  @Test
  void ubootRollbackIsRaucMarkBadThenMarkActiveOfTheOther() {
    Map<String, String> env = env("BOOT_ORDER", "B A", "BOOT_A_LEFT", "3", "BOOT_B_LEFT", "2");
    Map<String, String> changes = UBOOT.rollback(env::get, SlotId.B);
    assertThat(changes).containsExactly(Map.entry("BOOT_B_LEFT", "0"), Map.entry("BOOT_A_LEFT", "3"),
        Map.entry("BOOT_ORDER", "A"));
    Map<String, String> after = apply(env, changes);
    assertThat(UBOOT.read(after::get).next()).contains(SlotId.A);
    // a later activation of B puts it back in the order
    assertThat(UBOOT.activate(after::get, SlotId.B)).containsEntry("BOOT_ORDER", "B A");
  }

  @Test
  void ubootCountersAreHexAndMissingVariablesAreTheBootScriptDefaults() {
    RaucBootVariables.BootChoice choice = UBOOT.read(env("BOOT_A_LEFT", "a", "BOOT_B_LEFT", "0x0")::get);
    assertThat(choice.order()).containsExactly(SlotId.A, SlotId.B);
    assertThat(choice.attemptsLeft(SlotId.A)).isEqualTo(10);
    assertThat(choice.attemptsLeft(SlotId.B)).isZero();
    assertThat(UBOOT.read(env()::get)).isEqualTo(new RaucBootVariables.BootChoice(List.of(SlotId.A, SlotId.B), 3, 3));
    RaucBootVariables.BootChoice none = UBOOT.read(env("BOOT_ORDER", "A B", "BOOT_A_LEFT", "0", "BOOT_B_LEFT",
        "0")::get);
    assertThat(none.next()).isEqualTo(Optional.empty());
  }

  @Test
  void grubActivateMarkGoodAndRollbackAreRaucs() {
    Map<String, String> env = env("ORDER", "A B", "A_OK", "1", "A_TRY", "0", "B_OK", "0", "B_TRY", "0");
    assertThat(GRUB.read(env::get).next()).contains(SlotId.A);
    Map<String, String> activate = GRUB.activate(env::get, SlotId.B);
    assertThat(activate).containsExactly(Map.entry("B_OK", "1"), Map.entry("B_TRY", "0"), Map.entry("ORDER", "B A"));
    Map<String, String> activated = apply(env, activate);
    assertThat(GRUB.read(activated::get).next()).contains(SlotId.B);
    assertThat(GRUB.read(activated::get).attemptsLeft(SlotId.B)).isEqualTo(1);
    // GRUB's script set B_TRY=1 when it booted B; an unconfirmed B is skipped on the next boot
    Map<String, String> tried = apply(activated, env("B_TRY", "1"));
    assertThat(GRUB.read(tried::get).next()).contains(SlotId.A);
    assertThat(GRUB.read(tried::get).isFallingBack()).isTrue();
    assertThat(GRUB.markGood(tried::get, SlotId.B)).containsExactly(Map.entry("B_OK", "1"), Map.entry("B_TRY", "0"));
    Map<String, String> rollback = GRUB.rollback(tried::get, SlotId.B);
    assertThat(rollback).containsExactly(Map.entry("B_OK", "0"), Map.entry("B_TRY", "0"), Map.entry("A_OK", "1"),
        Map.entry("A_TRY", "0"), Map.entry("ORDER", "A B"));
    assertThat(GRUB.read(apply(tried, rollback)::get).next()).contains(SlotId.A);
  }

  @Test
  void strtoullFollowsGlib() {
    assertThat(RaucBootVariables.strtoull("3", 16)).isEqualTo(3);
    assertThat(RaucBootVariables.strtoull("0x1f", 16)).isEqualTo(31);
    assertThat(RaucBootVariables.strtoull(" 12z", 16)).isEqualTo(0x12);
    assertThat(RaucBootVariables.strtoull("010", 0)).isEqualTo(8);
    assertThat(RaucBootVariables.strtoull("", 0)).isZero();
    assertThat(RaucBootVariables.strtoull("-1", 0)).isEqualTo(Long.MAX_VALUE);
  }
}
