package io.otaflux.testkit;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

import io.otaflux.OtaException;

/**
 * A randomized test of a parser fed text a server or a user controls: every input must end in a
 * result or in the parser's sentence-carrying exception (an {@link OtaException} with a reason and
 * a non-empty message), never in a {@link StackOverflowError} or another exception.
 *
 * <p>Inputs mix structured mutations of valid samples (characters inserted, deleted, replaced,
 * slices repeated up to a few thousand characters, tokens of the format spliced in, truncations)
 * with random text over the format's alphabet and random bytes. The seed is printed; rerun one
 * with {@code -Dotaflux.fuzz.seed=N}. {@code -Dotaflux.fuzz.inputs=N} changes the number of
 * inputs (default 100 000).
 */
public final class Fuzz {

  /** The default number of inputs per parser. */
  public static final int DEFAULT_INPUTS = 100_000;

  private static final String PUNCTUATION = "\"\\/:@%#?[]{}.,-+=*;'` \n\t";

  private Fuzz() {
  }

  /** A parser under test: returns normally or throws. */
  @FunctionalInterface
  public interface Target {
    /**
     * Parses the input.
     *
     * @param input the text
     * @throws Exception anything
     */
    void parse(String input) throws Exception;
  }

  /**
   * What a run did.
   *
   * @param parser the parser's name
   * @param seed the seed
   * @param inputs how many inputs were tried
   * @param accepted how many parsed
   * @param refused how many ended in a sentence
   */
  public record Summary(String parser, long seed, int inputs, int accepted, int refused) {
  }

  /**
   * Runs {@code target} over generated inputs, expecting results or {@link OtaException}s.
   *
   * @param parser a name for the report
   * @param valid valid inputs to mutate
   * @param tokens pieces of the format (delimiters, keywords) spliced into mutations
   * @param target the parser
   * @return the summary
   * @throws AssertionError naming the seed, the input and what was thrown, at the first bad input
   */
  public static Summary check(String parser, List<String> valid, List<String> tokens, Target target) {
    return check(parser, valid, tokens, target, OtaException.class);
  }

  /**
   * Runs {@code target} over generated inputs, expecting results or exceptions of {@code sentence}
   * (its message is the sentence a person reads).
   *
   * @param parser a name for the report
   * @param valid valid inputs to mutate
   * @param tokens pieces of the format spliced into mutations
   * @param target the parser
   * @param sentence the exception type that carries the parser's sentence
   * @return the summary
   * @throws AssertionError naming the seed, the input and what was thrown, at the first bad input
   */
  public static Summary check(String parser, List<String> valid, List<String> tokens, Target target,
      Class<? extends Exception> sentence) {
    Objects.requireNonNull(target, "target");
    if (valid.isEmpty()) {
      throw new IllegalArgumentException("give at least one valid input");
    }
    long seed = seed();
    int inputs = Integer.getInteger("otaflux.fuzz.inputs", DEFAULT_INPUTS);
    System.out.println("fuzz " + parser + ": seed " + seed + ", " + inputs + " inputs (rerun with -Dotaflux.fuzz.seed="
        + seed + ")");
    Random random = new Random(seed);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < inputs; i++) {
      String input = input(random, valid, tokens);
      try {
        target.parse(input);
        accepted++;
      } catch (Throwable t) {
        if (!sentence.isInstance(t)) {
          throw new AssertionError("fuzz " + parser + " (seed " + seed + ", input #" + i + "): " + t
              + " for the input " + show(input), t);
        }
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
          throw new AssertionError("fuzz " + parser + " (seed " + seed + ", input #" + i + "): " + t
              + " has no sentence, for the input " + show(input), t);
        }
        if (t instanceof OtaException && ((OtaException) t).detail() == null) {
          throw new AssertionError("fuzz " + parser + ": no detail for " + show(input), t);
        }
        refused++;
      }
    }
    Summary summary = new Summary(parser, seed, inputs, accepted, refused);
    System.out.println("fuzz " + parser + ": " + summary);
    return summary;
  }

  private static long seed() {
    String given = System.getProperty("otaflux.fuzz.seed");
    if (given != null && !given.isBlank()) {
      return Long.parseLong(given.strip());
    }
    return new Random().nextLong();
  }

  /** One input: half mutations of a valid sample, the rest random text over the tokens, or random bytes. */
  static String input(Random random, List<String> valid, List<String> tokens) {
    int kind = random.nextInt(8);
    if (kind < 5) {
      StringBuilder s = new StringBuilder(valid.get(random.nextInt(valid.size())));
      int mutations = 1 + random.nextInt(4);
      for (int m = 0; m < mutations; m++) {
        mutate(random, s, tokens);
      }
      return s.toString();
    }
    if (kind < 7) {
      StringBuilder s = new StringBuilder();
      int pieces = random.nextInt(random.nextInt(8) == 0 ? 600 : 24);
      for (int p = 0; p < pieces; p++) {
        if (!tokens.isEmpty() && random.nextBoolean()) {
          s.append(tokens.get(random.nextInt(tokens.size())));
        } else {
          s.append(randomChar(random));
        }
      }
      return s.toString();
    }
    byte[] bytes = new byte[random.nextInt(random.nextInt(8) == 0 ? 4000 : 64)];
    random.nextBytes(bytes);
    return random.nextBoolean() ? new String(bytes, StandardCharsets.ISO_8859_1)
        : new String(bytes, StandardCharsets.UTF_8);
  }

  private static void mutate(Random random, StringBuilder s, List<String> tokens) {
    int at = s.length() == 0 ? 0 : random.nextInt(s.length() + 1);
    switch (random.nextInt(9)) {
      case 0: // insert a character
        s.insert(at, randomChar(random));
        break;
      case 1: // delete a range
        if (s.length() > 0) {
          int from = Math.min(at, s.length() - 1);
          s.delete(from, Math.min(s.length(), from + 1 + random.nextInt(random.nextBoolean() ? 3 : 40)));
        }
        break;
      case 2: // replace a character
        if (s.length() > 0) {
          s.setCharAt(Math.min(at, s.length() - 1), randomChar(random));
        }
        break;
      case 3: // repeat a slice: long lines, deep nesting, many blocks
        if (s.length() > 0) {
          int from = Math.min(at, s.length() - 1);
          String slice = s.substring(from, Math.min(s.length(), from + 1 + random.nextInt(16)));
          int times = random.nextInt(random.nextInt(4) == 0 ? 3000 : 20) + 1;
          s.insert(from, slice.repeat(Math.min(times, 8000 / slice.length() + 1)));
        }
        break;
      case 4: // splice a token of the format
        if (!tokens.isEmpty()) {
          s.insert(at, tokens.get(random.nextInt(tokens.size())));
        }
        break;
      case 5: // truncate
        s.setLength(at);
        break;
      case 6: // flip case of a range
        for (int i = at; i < Math.min(s.length(), at + random.nextInt(12)); i++) {
          char c = s.charAt(i);
          s.setCharAt(i, Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
        }
        break;
      case 7: // swap two halves
        s.replace(0, s.length(), s.substring(at) + s.substring(0, at));
        break;
      default: // an extreme number
        s.insert(at, random.nextBoolean() ? "9223372036854775807" : random.nextBoolean() ? "-1" : "99999999999999999999");
        break;
    }
  }

  private static char randomChar(Random random) {
    switch (random.nextInt(6)) {
      case 0:
        return (char) random.nextInt(0x20); // control characters
      case 1:
        return (char) (0x80 + random.nextInt(0x780)); // Latin and beyond
      case 2:
        return (char) (0xd800 + random.nextInt(0x800)); // lone surrogates
      case 3:
        return PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length()));
      default:
        return (char) (0x20 + random.nextInt(0x5f)); // printable ASCII
    }
  }

  private static String show(String input) {
    StringBuilder out = new StringBuilder("\"");
    String shown = input.length() > 300 ? input.substring(0, 300) : input;
    for (char c : shown.toCharArray()) {
      if (c < 0x20 || c > 0x7e) {
        out.append(String.format("\\u%04x", (int) c));
      } else if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else {
        out.append(c);
      }
    }
    out.append('"');
    if (input.length() > 300) {
      out.append("... (").append(input.length()).append(" characters)");
    }
    return out.toString();
  }
}
