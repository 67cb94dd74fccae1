package io.otaflux.storage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * RAUC's boot-selection variables, as a typed view over a bootloader environment: what the boot
 * script will choose, and the variable changes for activate, mark-good and rollback. The slots are
 * RAUC's boot names {@code A} and {@code B}. The changes are exactly what RAUC writes, so that boot
 * scripts written for RAUC work unchanged.
 *
 * <p><b>U-Boot</b> ({@link #UBOOT}): {@code BOOT_ORDER} lists boot names separated by spaces;
 * {@code BOOT_A_LEFT} / {@code BOOT_B_LEFT} count the attempts left, in hexadecimal (RAUC reads them
 * with {@code g_ascii_strtoull(.., 16)} and writes {@code "%x"}). RAUC's documented boot script
 * ("Integration", U-Boot section of RAUC's documentation) takes the first slot of {@code BOOT_ORDER}
 * with attempts left, decrements its counter and saves the environment before booting it; with none
 * left it sets both counters back to 3 and resets the board. An empty or missing {@code BOOT_ORDER}
 * or counter means {@code "A B"} and 3 to that script.
 *
 * <p><b>GRUB</b> ({@link #GRUB}): {@code ORDER}, {@code A_OK} / {@code B_OK}, {@code A_TRY} /
 * {@code B_TRY}. RAUC's documented GRUB script boots the first slot of {@code ORDER} whose
 * {@code _OK} is 1 and {@code _TRY} 0, setting its {@code _TRY} to 1 first: a slot gets one attempt
 * per activation, so "attempts left" is 1 or 0 here. Missing variables mean {@code ORDER="A B"} and
 * 0 for the others, as the script's {@code set} lines before {@code load_env}. With no slot to try the
 * script boots its default entry: {@code default=0} (slot A) is set before {@code load_env}, so a
 * {@code default} variable in the environment ({@code 0} or {@code 1}) wins; the store keeps it on the good
 * slot ({@link #lastResort}), an addition of ours to RAUC's variables.
 *
 * <p><b>Transitions</b>, from RAUC's sources ({@code src/bootloaders/uboot.c} and
 * {@code src/bootloaders/grub.c} of <a href="https://github.com/rauc/rauc">rauc/rauc</a>,
 * formerly {@code src/bootchooser.c}):
 * <ul>
 *   <li>{@link #activate} = {@code r_uboot_set_primary}: {@code BOOT_x_LEFT=3} and the slot first in
 *       {@code BOOT_ORDER}, the other names following in their current order;
 *       {@code r_grub_set_primary}: {@code x_OK=1 x_TRY=0 ORDER="x y"}.</li>
 *   <li>{@link #markGood} = {@code r_uboot_set_state(slot, good)}: {@code BOOT_x_LEFT=3}, the order
 *       unchanged (the running slot is already the first one with attempts left: that is why it
 *       booted); {@code r_grub_set_state(slot, good)}: {@code x_OK=1 x_TRY=0}.</li>
 *   <li>{@link #rollback} = RAUC's {@code mark-bad} of the running slot followed by {@code mark-active}
 *       of the other: U-Boot {@code BOOT_ORDER} without the running slot then with the other first,
 *       {@code BOOT_x_LEFT=0} for the running slot and 3 for the other; GRUB {@code x_OK=0 x_TRY=0}
 *       for the running slot, {@code y_OK=1 y_TRY=0 ORDER="y x"}.</li>
 * </ul>
 */
enum RaucBootVariables {

  /** U-Boot: {@code BOOT_ORDER}, {@code BOOT_A_LEFT}, {@code BOOT_B_LEFT}. */
  UBOOT {
    @Override
    BootChoice read(Function<String, @Nullable String> variables) {
      String order = variables.apply(ORDER_UBOOT);
      List<SlotId> slots = slots(order == null || order.isEmpty() ? "A B" : order);
      Map<SlotId, Integer> left = new LinkedHashMap<>();
      for (SlotId id : SlotId.values()) {
        String value = variables.apply(leftName(id));
        left.put(id, value == null || value.isEmpty() ? ATTEMPTS : (int) Math.min(Integer.MAX_VALUE,
            strtoull(value, 16)));
      }
      return new BootChoice(slots, left.get(SlotId.A), left.get(SlotId.B));
    }

    @Override
    Map<String, String> activate(Function<String, @Nullable String> variables, SlotId slot) {
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(leftName(slot), Integer.toHexString(ATTEMPTS));
      String current = variables.apply(ORDER_UBOOT);
      changes.put(ORDER_UBOOT, primary(slot, current == null ? bootName(slot) + " " + bootName(slot.other())
          : current));
      return changes;
    }

    @Override
    Map<String, String> markGood(Function<String, @Nullable String> variables, SlotId running) {
      return Map.of(leftName(running), Integer.toHexString(ATTEMPTS));
    }

    @Override
    Map<String, String> rollback(Function<String, @Nullable String> variables, SlotId running) {
      SlotId other = running.other();
      String current = variables.apply(ORDER_UBOOT);
      String without = without(running, current == null ? "A B" : current);
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(leftName(running), "0");
      changes.put(leftName(other), Integer.toHexString(ATTEMPTS));
      changes.put(ORDER_UBOOT, primary(other, without));
      return changes;
    }

    @Override
    Map<String, String> lastResort(SlotId good) {
      return Map.of(); // the first of BOOT_ORDER, which activate, mark-good and rollback already decide
    }

    @Override
    Map<String, String> dropFailed(Function<String, @Nullable String> variables, SlotId failed) {
      String current = variables.apply(ORDER_UBOOT);
      return Map.of(ORDER_UBOOT, primary(failed.other(), without(failed, current == null ? "A B" : current)));
    }
  },

  /** GRUB: {@code ORDER}, {@code A_OK}, {@code B_OK}, {@code A_TRY}, {@code B_TRY}. */
  GRUB {
    @Override
    BootChoice read(Function<String, @Nullable String> variables) {
      String order = variables.apply(ORDER_GRUB);
      List<SlotId> slots = slots(order == null ? "A B" : order);
      int[] left = new int[2];
      for (SlotId id : SlotId.values()) {
        long ok = strtoull(orEmpty(variables.apply(bootName(id) + "_OK")), 0);
        long tried = strtoull(orEmpty(variables.apply(bootName(id) + "_TRY")), 0);
        left[id.ordinal()] = ok == 1 && tried == 0 ? 1 : 0;
      }
      // GRUB's menu entry 0 is slot A, 1 slot B; the default=0 before load_env unless the environment sets one
      String entry = variables.apply(DEFAULT_GRUB);
      return new BootChoice(slots, left[0], left[1], "1".equals(entry == null ? null : entry.strip()) ? SlotId.B
          : SlotId.A);
    }

    @Override
    Map<String, String> activate(Function<String, @Nullable String> variables, SlotId slot) {
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(bootName(slot) + "_OK", "1");
      changes.put(bootName(slot) + "_TRY", "0");
      changes.put(ORDER_GRUB, bootName(slot) + " " + bootName(slot.other()));
      return changes;
    }

    @Override
    Map<String, String> markGood(Function<String, @Nullable String> variables, SlotId running) {
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(bootName(running) + "_OK", "1");
      changes.put(bootName(running) + "_TRY", "0");
      return changes;
    }

    @Override
    Map<String, String> rollback(Function<String, @Nullable String> variables, SlotId running) {
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(bootName(running) + "_OK", "0");
      changes.put(bootName(running) + "_TRY", "0");
      changes.putAll(activate(variables, running.other()));
      return changes;
    }

    @Override
    Map<String, String> lastResort(SlotId good) {
      return Map.of(DEFAULT_GRUB, good == SlotId.A ? "0" : "1");
    }

    @Override
    Map<String, String> dropFailed(Function<String, @Nullable String> variables, SlotId failed) {
      Map<String, String> changes = new LinkedHashMap<>();
      changes.put(bootName(failed) + "_OK", "0");
      changes.putAll(lastResort(failed.other()));
      return changes;
    }
  };

  /** RAUC's default and primary attempt count ({@code UBOOT_ATTEMPTS_PRIMARY}, {@code UBOOT_DEFAULT_ATTEMPTS}). */
  static final int ATTEMPTS = 3;

  static final String ORDER_UBOOT = "BOOT_ORDER";
  static final String ORDER_GRUB = "ORDER";
  static final String DEFAULT_GRUB = "default";

  /**
   * What the boot script will do with these variables.
   *
   * @param variables the environment's variables by name (null when unset)
   */
  abstract BootChoice read(Function<String, @Nullable String> variables);

  /** The changes that make {@code slot} the next boot with a fresh attempt count. */
  abstract Map<String, String> activate(Function<String, @Nullable String> variables, SlotId slot);

  /** The changes that confirm the running slot. */
  abstract Map<String, String> markGood(Function<String, @Nullable String> variables, SlotId running);

  /** The changes that give up the running slot and boot the other one next. */
  abstract Map<String, String> rollback(Function<String, @Nullable String> variables, SlotId running);

  /**
   * The changes that make {@code good} what the boot script boots when no slot has attempts left: GRUB's
   * {@code default} entry ({@value #DEFAULT_GRUB}, which RAUC's {@code grub.cfg} sets to 0 before its
   * {@code load_env}, so the environment's value wins); nothing for U-Boot, whose script then boots the first of
   * {@code BOOT_ORDER}.
   */
  abstract Map<String, String> lastResort(SlotId good);

  /**
   * The changes that take {@code failed}, a slot the bootloader fell back from (or one that must not boot), out of
   * the boot script's reach without touching the other slot's attempts: U-Boot drops it from {@code BOOT_ORDER} (so
   * that the counter reset when no slot has attempts left boots the other), GRUB sets its {@code _OK=0} and the
   * default entry to the other.
   */
  abstract Map<String, String> dropFailed(Function<String, @Nullable String> variables, SlotId failed);

  /**
   * The boot order and the attempts left, as the boot script sees them.
   *
   * @param order the slots in {@code BOOT_ORDER} / {@code ORDER}, first choice first (names other than
   *     A and B, and repeats, left out)
   * @param attemptsLeftA attempts left for slot A (GRUB: 1 when {@code A_OK=1} and {@code A_TRY=0}, else 0)
   * @param attemptsLeftB the same for slot B
   * @param lastResort what the boot script boots when no slot has attempts left (U-Boot: the first of the order
   *     after giving both 3 again; GRUB: its default entry), null for an empty U-Boot order
   */
  record BootChoice(List<SlotId> order, int attemptsLeftA, int attemptsLeftB, @Nullable SlotId lastResort) {

    BootChoice {
      order = List.copyOf(order);
    }

    /** U-Boot's choice: with no attempts left the script boots the first of the order. */
    BootChoice(List<SlotId> order, int attemptsLeftA, int attemptsLeftB) {
      this(order, attemptsLeftA, attemptsLeftB, order.isEmpty() ? null : order.get(0));
    }

    int attemptsLeft(SlotId slot) {
      return slot == SlotId.A ? attemptsLeftA : attemptsLeftB;
    }

    /**
     * The slot the boot script will boot next: the first of the order with attempts left; empty when
     * none has any (U-Boot's script then sets both counters to 3 and resets the board, GRUB's boots
     * its default entry).
     */
    Optional<SlotId> next() {
      for (SlotId id : order) {
        if (attemptsLeft(id) > 0) {
          return Optional.of(id);
        }
      }
      return Optional.empty();
    }

    /** Whether the first slot of the order has no attempts left, so the bootloader falls back (or has). */
    boolean isFallingBack() {
      return !order.isEmpty() && attemptsLeft(order.get(0)) == 0;
    }
  }

  /** RAUC's boot name of a slot: {@code A} or {@code B}. */
  static String bootName(SlotId slot) {
    return slot.name();
  }

  static String leftName(SlotId slot) {
    return "BOOT_" + bootName(slot) + "_LEFT";
  }

  private static String orEmpty(@Nullable String value) {
    return value == null ? "" : value;
  }

  private static List<SlotId> slots(String order) {
    List<SlotId> slots = new ArrayList<>();
    for (String name : order.split(" ")) {
      for (SlotId id : SlotId.values()) {
        if (bootName(id).equals(name) && !slots.contains(id)) {
          slots.add(id);
        }
      }
    }
    return slots;
  }

  /** {@code slot} first, then the other names of {@code order} (empty ones dropped), as RAUC builds it. */
  private static String primary(SlotId slot, String order) {
    StringBuilder s = new StringBuilder(bootName(slot));
    for (String name : order.split(" ")) {
      if (!name.isEmpty() && !name.equals(bootName(slot))) {
        s.append(' ').append(name);
      }
    }
    return s.toString();
  }

  private static String without(SlotId slot, String order) {
    StringBuilder s = new StringBuilder();
    for (String name : order.split(" ")) {
      if (!name.isEmpty() && !name.equals(bootName(slot))) {
        s.append(s.length() == 0 ? "" : " ").append(name);
      }
    }
    return s.toString();
  }

  /**
   * {@code g_ascii_strtoull(value, NULL, base)}: leading blanks and sign, {@code 0x} for base 16 or 0,
   * octal for a leading 0 in base 0, digits up to the first that is not one; 0 when there are none;
   * a negative number (huge once wrapped to unsigned in C) gives {@code Long.MAX_VALUE}.
   */
  static long strtoull(String value, int base) {
    String s = value.stripLeading().toLowerCase(Locale.ROOT);
    boolean negative = false;
    if (s.startsWith("+") || s.startsWith("-")) {
      negative = s.charAt(0) == '-';
      s = s.substring(1);
    }
    int radix = base;
    if ((base == 16 || base == 0) && s.startsWith("0x") && s.length() > 2 && Character.digit(s.charAt(2), 16) >= 0) {
      s = s.substring(2);
      radix = 16;
    } else if (base == 0) {
      radix = s.startsWith("0") ? 8 : 10;
    }
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      int d = Character.digit(s.charAt(i), radix);
      if (d < 0) {
        break;
      }
      if (n > (Long.MAX_VALUE - d) / radix) {
        return Long.MAX_VALUE;
      }
      n = n * radix + d;
    }
    return negative && n > 0 ? Long.MAX_VALUE : n; // C wraps -n around to a huge unsigned value
  }
}
