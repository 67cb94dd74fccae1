package io.otaflux.manifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

/** PEM blocks (RFC 7468) in and out. Every failure is a {@code USAGE} error: keys are arguments. */
final class Pem {

  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private Pem() {
  }

  /** One block: its label and DER bytes. */
  record Block(String label, byte[] der) {
  }

  static List<Block> blocks(String text) {
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw OtaException.of(Reason.USAGE, "The PEM block \"" + m.group(1) + "\" is not valid base64.", e);
      }
      blocks.add(new Block(m.group(1), der));
    }
    return blocks;
  }

  /** The DER of the one block labelled {@code label}; {@code what} names the thing for messages. */
  static byte[] single(String text, String label, String what) {
    List<Block> blocks = blocks(text);
    List<Block> matching = new ArrayList<>();
    for (Block b : blocks) {
      if (b.label().equals(label)) {
        matching.add(b);
      }
    }
    if (matching.size() == 1) {
      return matching.get(0).der();
    }
    if (matching.size() > 1) {
      throw OtaException.of(Reason.USAGE, "The PEM text holds " + matching.size() + " \"" + label
          + "\" blocks; give one " + what + " per file.");
    }
    if (blocks.isEmpty()) {
      throw OtaException.of(Reason.USAGE, "No PEM block found; expected a " + what + " starting with \"-----BEGIN "
          + label + "-----\".");
    }
    throw OtaException.of(Reason.USAGE, "Expected a " + what + " (\"-----BEGIN " + label + "-----\") but found \""
        + blocks.get(0).label() + "\"" + hint(blocks.get(0).label()));
  }

  private static String hint(String found) {
    switch (found) {
      case "PRIVATE KEY":
        return "; that is a private key: give the public key (keygen writes it beside the private one).";
      case "PUBLIC KEY":
        return "; that is a public key: signing needs the private key.";
      case "EC PRIVATE KEY":
        return "; convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in KEY -out key.pem`.";
      case "ENCRYPTED PRIVATE KEY":
        return "; encrypted keys are not supported: decrypt it with `openssl pkcs8 -in KEY -out key.pem`.";
      case "CERTIFICATE":
        return "; extract its public key with `openssl x509 -pubkey -noout -in CERT`.";
      default:
        return ".";
    }
  }

  static String encode(String label, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  static String read(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw OtaException.of(Reason.USAGE, "The " + what + " file " + file + " does not exist.", e);
    } catch (IOException e) {
      throw OtaException.of(Reason.USAGE, "The " + what + " file " + file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /** Reads the PEM file and parses its text; a failure to parse names the file. */
  static <T> T parse(Path file, String what, Function<String, T> parser) {
    String text = read(file, what);
    try {
      return parser.apply(text);
    } catch (OtaException e) {
      throw e.withMessage(file + ": " + e.getMessage());
    }
  }

  /** One of BouncyCastle's key factories: DER in, key parameters out. */
  interface KeyDecoder {
    AsymmetricKeyParameter decode(byte[] der) throws IOException;
  }

  /** Decodes the DER of a PEM block into a key; what cannot be decoded says which key to give. */
  static AsymmetricKeyParameter key(byte[] der, KeyDecoder decoder, String what, String give) {
    try {
      return decoder.decode(der);
    } catch (IOException | RuntimeException e) {
      throw OtaException.of(Reason.USAGE, "The " + what + " cannot be decoded (" + e.getMessage() + "); give " + give
          + " in PEM.", e);
    }
  }
}
