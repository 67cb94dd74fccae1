package io.otaflux.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import reactor.test.StepVerifier;

/**
 * The status page in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}; {@code .ci/run} installs them). Never skipped: without the browser
 * this test fails and says what to install.
 */
class WebStatusPageBrowserTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Path CHROMIUM = Paths.get(System.getProperty("otaflux.chromium", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER =
      Paths.get(System.getProperty("otaflux.chromedriver", "/usr/bin/chromedriver"));
  private static final Path SCREENSHOTS = Paths.get("target");

  @TempDir
  static Path profile;

  private static ChromeDriver browser;
  private WebStatusServer page;

  @BeforeAll
  static void startBrowser() {
    assertThat(CHROMIUM).as("Chromium is needed: apt-get install chromium chromium-driver").isExecutable();
    assertThat(CHROMEDRIVER).as("ChromeDriver is needed: apt-get install chromium-driver").isExecutable();
    // a given driver (read by the default ChromeDriverService) and browser: Selenium Manager has
    // nothing to look up or download. (Not ChromeDriverService.Builder: javac -Werror trips on its
    // @AutoService annotation, whose class is not on the class path.)
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    System.setProperty("SE_OFFLINE", "true");
    ChromeOptions options = new ChromeOptions()
        .setBinary(CHROMIUM.toFile())
        .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--window-size=900,760", "--user-data-dir=" + profile.toAbsolutePath());
    browser = new ChromeDriver(options);
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  @AfterEach
  void closePage() {
    if (page != null) {
      page.close();
    }
  }

  private void open(Updates update, String title) {
    page = WebStatusPage.create().title(title).serve(update.session).block(TIMEOUT);
    browser.get(page.uri().toString());
    // the page is live once the event stream brought the first view
    untilState("running");
  }

  /** Waits until the page shows the update in {@code state}; the body carries it as data-state. */
  private static void untilState(String state) {
    until(ExpectedConditions.attributeToBe(By.tagName("body"), "data-state", state));
  }

  private static <T> T until(java.util.function.Function<? super WebDriver, T> condition) {
    return new WebDriverWait(browser, TIMEOUT, Duration.ofMillis(20)).until(condition);
  }

  private static int percent() {
    String text = browser.findElement(By.id("percent")).getText();
    return text.isEmpty() ? -1 : Integer.parseInt(text.replace("%", "").strip());
  }

  private static void screenshot(String name) throws IOException {
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.createDirectories(SCREENSHOTS);
    Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void theBarAdvancesAndTheAbortButtonAbortsTheUpdate() throws IOException {
    // 256 chunks, one per 25 ms: about 6 s if nobody aborts
    Updates update = Updates.slow(4 * 1024 * 1024, 16 * 1024, Duration.ofMillis(25));
    StoreStatus before = update.store.status().block(TIMEOUT);
    open(update, "gw-2.0.bin");
    update.session.start();

    int first = until(d -> percent() >= 1 ? percent() : null);
    int later = until(d -> percent() > first ? percent() : null);
    assertThat(later).isGreaterThan(first);
    assertThat(browser.findElement(By.id("bar")).getDomProperty("value")).isNotEqualTo("0");
    assertThat(browser.findElement(By.id("bytes")).getText()).endsWith("of 4.0 MiB");
    assertThat(browser.findElement(By.id("message")).getText()).isEqualTo("Downloading into slot b.");
    screenshot("web-status-running.png");

    browser.findElement(By.id("abort")).click();

    untilState("aborted");
    assertThat(browser.findElement(By.id("error-title")).getText()).isEqualTo("Update aborted");
    assertThat(browser.findElement(By.id("error-text")).getText()).contains("aborted")
        .contains("unchanged");
    assertThat(browser.findElement(By.id("abort")).isEnabled()).isFalse();
    assertThat(browser.findElement(By.id("result")).isDisplayed()).isFalse();
    screenshot("web-status-aborted.png");

    StepVerifier.create(update.session.result())
        .expectErrorSatisfies(e -> assertThat(((OtaException) e).reason()).isEqualTo(Reason.ABORTED))
        .verify(TIMEOUT);
    StoreStatus after = update.store.status().block(TIMEOUT);
    assertThat(after.active()).isEqualTo(before.active()).isEqualTo(SlotId.A);
    assertThat(after.next()).isEqualTo(before.next()).isEqualTo(SlotId.A);
    assertThat(after.slot(SlotId.A)).isEqualTo(before.slot(SlotId.A));
    assertThat(after.slot(SlotId.B).state()).isNotIn(SlotState.TRIAL, SlotState.GOOD);
  }

  @Test
  void twoBrowserTabsSeeTheSuccessWithTheDigestAndSlot() throws IOException {
    Updates update = Updates.slow(512 * 1024, 16 * 1024, Duration.ofMillis(10));
    open(update, "gw-2.0.bin");
    String firstTab = browser.getWindowHandle();
    browser.switchTo().newWindow(WindowType.TAB);
    browser.get(page.uri().toString());
    untilState("running");
    String secondTab = browser.getWindowHandle();

    update.session.start();

    for (String tab : new String[] {secondTab, firstTab}) {
      browser.switchTo().window(tab);
      untilState("done");
      assertThat(browser.findElement(By.id("sha256")).getText()).isEqualTo(update.digest().hex());
      assertThat(browser.findElement(By.id("slot")).getText()).isEqualTo("b");
      assertThat(browser.findElement(By.id("percent")).getText()).isEqualTo("100%");
      assertThat(browser.findElement(By.id("message")).getText()).contains("boots next");
      assertThat(browser.findElement(By.id("result")).isDisplayed()).isTrue();
      assertThat(browser.findElement(By.id("error")).isDisplayed()).isFalse();
      assertThat(browser.findElement(By.id("abort")).isEnabled()).isFalse();
    }
    screenshot("web-status-done.png");
    browser.switchTo().window(secondTab).close();
    browser.switchTo().window(firstTab);
    StepVerifier.create(update.session.result())
        .assertNext(r -> assertThat(r.sha256()).isEqualTo(update.digest()))
        .expectComplete()
        .verify(TIMEOUT);
  }

  @Test
  void aFailedUpdateShowsTheHumanError() throws IOException {
    String sentence = "The server's certificate is not signed by the given root certificate; check --root-cert.";
    Updates update = Updates.failing(OtaException.of(Reason.TRUST, sentence));
    open(update, "gw-2.0.bin");

    update.session.start();

    untilState("failed");
    assertThat(browser.findElement(By.id("error-title")).getText()).isEqualTo("Update failed");
    assertThat(browser.findElement(By.id("error-text")).getText()).isEqualTo(sentence);
    assertThat(browser.findElement(By.id("abort")).isEnabled()).isFalse();
    screenshot("web-status-failed.png");
  }
}
