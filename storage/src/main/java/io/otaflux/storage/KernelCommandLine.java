package io.otaflux.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

/**
 * The running slot, as the bootloader told the kernel: {@code rauc.slot=A} or {@code rauc.slot=B}
 * (what RAUC's boot scripts put in {@code bootargs}), or {@code otaflux.slot=a} /
 * {@code otaflux.slot=b}. The command line is read from {@code /proc/cmdline} by default; tests and
 * containers give another file.
 *
 * <p>Parameters are separated by blanks; a value may be quoted ({@code rauc.slot="A"}). When a
 * parameter appears more than once the last one counts, as for the kernel. Both names may appear
 * but must then agree.
 */
final class KernelCommandLine {

  static final Path PROC_CMDLINE = Path.of("/proc/cmdline");

  private KernelCommandLine() {
  }

  /**
   * The running slot named by the command line in {@code file}.
   *
   * @throws OtaException {@code INVALID_REQUEST} when it names no slot, names an unknown one or two
   *     different ones; {@code IO_ERROR} when the file cannot be read
   */
  static SlotId runningSlot(Path file) {
    String text = TextFiles.read(file, StandardCharsets.UTF_8, "kernel command line", Detail.IO_ERROR,
        ", so the running slot is unknown. Give the right file (it is /proc/cmdline on the device).");
    return runningSlot(text, file.toString());
  }

  /** The running slot named by {@code cmdline}; {@code source} names it in messages. */
  static SlotId runningSlot(String cmdline, String source) {
    String rauc = null;
    String ours = null;
    for (String parameter : parameters(cmdline)) {
      if (parameter.startsWith("rauc.slot=")) {
        rauc = unquote(parameter.substring("rauc.slot=".length()));
      } else if (parameter.startsWith("otaflux.slot=")) {
        ours = unquote(parameter.substring("otaflux.slot=".length()));
      }
    }
    SlotId fromRauc = rauc == null ? null : slot(rauc, "rauc.slot", "A or B", source, "A", "B");
    SlotId fromOurs = ours == null ? null : slot(ours, "otaflux.slot", "a or b", source, "a", "b");
    if (fromRauc != null && fromOurs != null && fromRauc != fromOurs) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The kernel command line (" + source + ") names two running slots:"
          + " rauc.slot=" + rauc + " and otaflux.slot=" + ours + ". Fix the boot script so that it sets one.");
    }
    SlotId slot = fromRauc != null ? fromRauc : fromOurs;
    if (slot == null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The kernel command line (" + source + ") names no slot, so the"
          + " running slot is unknown and nothing was changed. The boot script must add rauc.slot=A or rauc.slot=B"
          + " (as RAUC's scripts do) or otaflux.slot=a|b to the kernel's arguments. It reads: \"" + cmdline.strip()
          + "\"");
    }
    return slot;
  }

  private static @Nullable SlotId slot(String value, String name, String expected, String source, String a,
      String b) {
    if (value.equals(a)) {
      return SlotId.A;
    }
    if (value.equals(b)) {
      return SlotId.B;
    }
    throw OtaException.of(Detail.INVALID_REQUEST, "The kernel command line (" + source + ") says " + name + "="
        + value + ", which is not a slot of this store (" + expected + "). Fix the boot script.");
  }

  private static String unquote(String value) {
    if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
      return value.substring(1, value.length() - 1);
    }
    return value;
  }

  /** Splits on blanks outside double quotes, as the kernel's {@code next_arg} does. */
  private static java.util.List<String> parameters(String cmdline) {
    java.util.List<String> out = new java.util.ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < cmdline.length(); i++) {
      char c = cmdline.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      }
      if (!quoted && Character.isWhitespace(c)) {
        if (current.length() > 0) {
          out.add(current.toString());
          current.setLength(0);
        }
      } else {
        current.append(c);
      }
    }
    if (current.length() > 0) {
      out.add(current.toString());
    }
    return out;
  }
}
