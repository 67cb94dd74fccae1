package io.otaflux.transport;

import static io.otaflux.transport.Servers.PKI;
import static io.otaflux.transport.Servers.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.testing.NoLeaks;
import io.otaflux.transport.testing.RawHttpsServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import reactor.core.publisher.Flux;

/**
 * The request line is the URL as given, byte for byte: percent-encoded slashes, pluses and
 * ampersands in a signed URL name another resource once decoded (issue 14 item 10).
 */
@ExtendWith(NoLeaks.class)
class RequestTargetTest {

  private static final String TARGET = "/a%2Fb/fw.bin?sig=ab%2Bcd%3D%26x%3D1";
  private final byte[] image = Servers.image(20_000);
  private RawHttpsServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private Flux<byte[]> image() {
    return RawHttpsServer.answer("HTTP/1.1 200 OK\r\nContent-Length: " + image.length + "\r\n\r\n", image);
  }

  private static String requestLine(String head) {
    return head.substring(0, head.indexOf("\r\n"));
  }

  @Test
  void theUserInfoIsRemovedAndTheRestOfTheUrlIsSentByteForByte() {
    server = RawHttpsServer.start(PKI.localhost(), (head, n) -> image());
    String url = "https://u:p@localhost:" + server.port() + TARGET;
    ImageDownload download = Servers.trustingRoot().open(UpdateRequest.of(url), ResumeFrom.start()).block(TIMEOUT);
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(download.effectiveUri()).isEqualTo(URI.create("https://localhost:" + server.port() + TARGET));
    List<String> heads = server.heads();
    assertThat(requestLine(heads.get(0))).isEqualTo("GET " + TARGET + " HTTP/1.1");
    assertThat(heads.get(0)).containsIgnoringCase("authorization: Basic "
        + Base64.getEncoder().encodeToString("u:p".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aRedirectTargetIsAlsoSentByteForByte() {
    server = RawHttpsServer.start(PKI.localhost(), (head, n) -> n == 0
        ? RawHttpsServer.answer("HTTP/1.1 302 Found\r\nLocation: /c%2Fd/fw.bin?t=%2B%26%3D\r\nContent-Length: 0\r\n\r\n",
            new byte[0])
        : image());
    String url = "https://u:p@localhost:" + server.port() + TARGET;
    ImageDownload download = Servers.trustingRoot().open(UpdateRequest.of(url), ResumeFrom.start()).block(TIMEOUT);
    assertThat(FirmwareBytes.readAll(download)).isEqualTo(image);
    assertThat(server.heads()).extracting(RequestTargetTest::requestLine)
        .containsExactly("GET " + TARGET + " HTTP/1.1", "GET /c%2Fd/fw.bin?t=%2B%26%3D HTTP/1.1");
  }
}
