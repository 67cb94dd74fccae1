package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static io.otaflux.transport.Servers.otaFailure;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.FirmwareSource.Range;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.RawHttpsServer;
import io.otaflux.transport.testing.Routes;
import io.otaflux.transport.testing.StaticFile;
import io.otaflux.transport.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Several byte ranges of a file, against real servers: well-behaved, and the ways servers answer otherwise. */
@ExtendWith(NoLeaks.class)
class RangeRequestsTest {

  private static final byte[] FILE = Servers.image(4 << 20);
  private static final Pattern RANGE = Pattern.compile("(?im)^Range: bytes=(.*)$");
  private static final Pattern ETAG = Pattern.compile("(?im)^If-Range: (.*)$");

  @RegisterExtension
  final Servers servers = new Servers();

  private final HttpsFirmwareSource source = Servers.trustingRoot();
  private RawHttpsServer raw;

  @AfterEach
  void stop() {
    if (raw != null) {
      raw.close();
    }
  }

  /** 100 ranges of 1000 bytes, 40 KiB apart. */
  private static List<Range> scattered() {
    List<Range> ranges = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ranges.add(new Range(i * 40_960L + 7, 1000));
    }
    return ranges;
  }

  private static byte[] expected(List<Range> ranges) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Range r : ranges) {
      out.write(FILE, (int) r.first(), (int) r.length());
    }
    return out.toByteArray();
  }

  private byte[] read(String url, List<Range> ranges) {
    return source.readRanges(UpdateRequest.of(url), ranges, null)
        .reduce(new ByteArrayOutputStream(), (out, b) -> {
          byte[] bytes = new byte[b.remaining()];
          b.get(bytes);
          out.write(bytes, 0, bytes.length);
          return out;
        })
        .map(ByteArrayOutputStream::toByteArray)
        .block(TIMEOUT);
  }

  /** The ranges a request head asks for, as [first, last] pairs. */
  private static List<long[]> asked(String head) {
    Matcher m = RANGE.matcher(head);
    assertThat(m.find()).as("a Range header in %s", head).isTrue();
    List<long[]> ranges = new ArrayList<>();
    for (String spec : m.group(1).strip().split(",")) {
      String[] ab = spec.split("-");
      ranges.add(new long[] {Long.parseLong(ab[0]), Long.parseLong(ab[1])});
    }
    return ranges;
  }

  private static Flux<byte[]> partial(long first, long last, String etag) {
    byte[] body = Arrays.copyOfRange(FILE, (int) first, (int) last + 1);
    return RawHttpsServer.answer("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + first + "-" + last + "/"
        + FILE.length + "\r\nContent-Length: " + body.length + "\r\nETag: " + etag + "\r\n\r\n", body);
  }

  @Test
  void severalRangesGoInOneRequestAsMultipartOnKeptAliveConnectionsAndComeBackInOrder() {
    TestServer server = servers.https().route("/f.bin", StaticFile.of(FILE));
    List<Range> ranges = scattered();

    assertThat(read(server.url("/f.bin"), ranges)).isEqualTo(expected(ranges));

    List<TestServer.Recorded> requests = server.requests();
    assertThat(requests).hasSize(4);
    assertThat(requests).allSatisfy(r -> assertThat(r.header("Range").split(",")).hasSizeLessThanOrEqualTo(
        RangeFetch.MAX_RANGES));
    assertThat(server.channels()).isLessThanOrEqualTo(RangeFetch.IN_FLIGHT);
    // the pool is closed at the end: no connection is left open
    StepVerifier.create(server.allClosed(server.connections())).expectComplete().verify(TIMEOUT);
  }

  @Test
  void everyRequestOfSeveralFollowsTheRedirectOnItsOwn() {
    TestServer server = servers.https().route("/f.bin", StaticFile.of(FILE));
    TestServer front = servers.https().route("/latest/f.bin", Routes.redirect(302, server.url("/f.bin")));
    List<Range> ranges = scattered();

    assertThat(read(front.url("/latest/f.bin"), ranges)).isEqualTo(expected(ranges));
    assertThat(front.requests()).hasSize(4);
    assertThat(server.requests()).hasSize(4);
  }

  @Test
  void aServerAnsweringSeveralRangesWithOneCoveringRangeIsReadWithoutTheBytesBetween() {
    raw = RawHttpsServer.start(PKI.localhost(), (head, n) -> {
      List<long[]> asked = asked(head);
      return partial(asked.get(0)[0], asked.get(asked.size() - 1)[1], "\"v1\"");
    });
    List<Range> ranges = List.of(new Range(10, 100), new Range(300, 50), new Range(5000, 1000));

    assertThat(read(raw.url("/f.bin"), ranges)).isEqualTo(expected(ranges));
    assertThat(raw.heads()).hasSize(1);
  }

  @Test
  void aServerAnsweringSeveralRangesWithTheWholeFileIsAskedOneRangePerRequest() {
    raw = RawHttpsServer.start(PKI.localhost(), (head, n) -> {
      List<long[]> asked = asked(head);
      if (asked.size() > 1) {
        return RawHttpsServer.answer("HTTP/1.1 200 OK\r\nContent-Length: " + FILE.length + "\r\nETag: \"v1\"\r\n\r\n",
            FILE);
      }
      return partial(asked.get(0)[0], asked.get(0)[1], "\"v1\"");
    });
    List<Range> ranges = List.of(new Range(10, 100), new Range(300, 50), new Range(5000, 1000));

    assertThat(read(raw.url("/f.bin"), ranges)).isEqualTo(expected(ranges));
    assertThat(raw.heads()).extracting(h -> asked(h).size()).containsExactly(3, 1, 1, 1);
  }

  @Test
  void aCoveringRangeFarLargerThanTheRangesAskedIsDroppedAndTheRangesAreAskedOneByOne() {
    raw = RawHttpsServer.start(PKI.localhost(), (head, n) -> {
      List<long[]> asked = asked(head);
      return partial(asked.get(0)[0], asked.get(asked.size() - 1)[1], "\"v1\"");
    });
    List<Range> ranges = List.of(new Range(0, 100), new Range(3 << 20, 100));

    assertThat(read(raw.url("/f.bin"), ranges)).isEqualTo(expected(ranges));
    assertThat(raw.heads()).extracting(h -> asked(h).size()).containsExactly(2, 1, 1);
  }

  @Test
  void aPartWithAnotherValidatorThanIfRangeIsRefusedAsAChangedFile() {
    raw = RawHttpsServer.start(PKI.localhost(), (head, n) -> {
      long[] asked = asked(head).get(0);
      return partial(asked[0], asked[1], "\"v2\"");
    });

    StepVerifier.create(source.readRanges(UpdateRequest.of(raw.url("/f.bin")), List.of(new Range(0, 10)), "\"v1\""))
        .expectErrorSatisfies(e -> {
          assertThat(otaFailure(e, Reason.SERVER).detail()).isEqualTo(Detail.INCONSISTENT_RESPONSE);
          assertThat(e.getMessage()).contains("changed on the server").contains("\"v2\"");
        })
        .verify(TIMEOUT);
    Matcher ifRange = ETAG.matcher(raw.heads().get(0));
    assertThat(ifRange.find()).isTrue();
    assertThat(ifRange.group(1).strip()).isEqualTo("\"v1\"");
  }

  @Test
  void aServerRefusingEveryTlsVersionOfferedFailsRangeRequestsAsItFailsTheWholeImage() {
    TestServer old = servers.refusingTlsVersion();
    UpdateRequest request = UpdateRequest.of(old.url("/f.bin"));

    StepVerifier.create(source.readRanges(request, List.of(new Range(0, 10), new Range(20, 10)), null))
        .expectErrorSatisfies(e -> {
          assertThat(otaFailure(e, Reason.TRUST).detail()).isEqualTo(Detail.TLS_VERSION);
          assertThat(e.getMessage()).contains("TLS 1.2").contains("protocol_version");
        })
        .verify(TIMEOUT);
    StepVerifier.create(source.openRange(request, 0, 10, null))
        .expectErrorSatisfies(e -> assertThat(otaFailure(e, Reason.TRUST).detail()).isEqualTo(Detail.TLS_VERSION))
        .verify(TIMEOUT);
  }

  @Test
  void theMultipartParserTakesPartsSplitAnywhereWithFlatBuffers() {
    List<Range> ranges = List.of(new Range(3, 5), new Range(20, 4));
    String boundary = "THIS_STRING_SEPARATES";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("preamble\r\n--" + boundary + "\r\nContent-Type: x\r\ncontent-range: bytes 3-7/64\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    body.write(FILE, 3, 5);
    // a server may coalesce: this part covers the second range and more
    body.writeBytes(("\r\n--" + boundary + "\r\nContent-Range: bytes 18-30/64\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    body.write(FILE, 18, 13);
    body.writeBytes(("\r\n--" + boundary + "--\r\nepilogue").getBytes(StandardCharsets.ISO_8859_1));
    byte[] all = body.toByteArray();
    for (int split = 1; split < all.length; split++) {
      RangeFetch.Cursor cursor = new RangeFetch.Cursor(ranges);
      RangeFetch.Multipart parts = new RangeFetch.Multipart(boundary, cursor, java.net.URI.create("https://h/f"));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (ByteBuffer piece : List.of(ByteBuffer.wrap(all, 0, split), ByteBuffer.wrap(all, split, all.length - split))) {
        for (ByteBuffer b : parts.accept(piece.slice())) {
          byte[] bytes = new byte[b.remaining()];
          b.get(bytes);
          out.write(bytes, 0, bytes.length);
        }
      }
      assertThat(out.toByteArray()).as("split at %d", split).isEqualTo(expected(ranges));
      assertThat(cursor.missing()).isZero();
    }
  }
}
