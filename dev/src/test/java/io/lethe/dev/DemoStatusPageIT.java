package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.dev.demo.Demo;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The demo's status page in a real headless Chromium (Debian's chromium and chromium-driver):
 * it loads, shows the three regions, and its numbers move while the demo writes. The screenshot
 * is kept as a build artifact in dev/target/screenshots/.
 */
@ExtendWith(LetheStackExtension.class)
class DemoStatusPageIT {
    private static final File CHROMIUM = new File("/usr/bin/chromium");
    private static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");

    @Test
    void theStatusPageShowsEveryRegionAndItsNumbersMove(LetheStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        assertTrue(CHROMIUM.canExecute() && CHROMEDRIVER.canExecute(), "this test drives Debian's chromium: "
                + "apt-get install chromium chromium-driver (.ci/run installs them when missing)");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Demo.Settings settings = new Demo.Settings(scope.database(), scope.slot(), scope.topicPrefix(), stack.regions(), 50, 20);
        try (Demo demo = Demo.start(stack, settings, registry, "127.0.0.1", 0, dir.resolve("lethe.yml"))) {
            demo.startWorkload(registry);
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM);
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                    "--window-size=1400,900", "--user-data-dir=" + dir.resolve("chromium-profile"));
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER)
                    .usingAnyFreePort().withLogFile(dir.resolve("chromedriver.log").toFile()).build();
            ChromeDriver browser = new ChromeDriver(service, options);
            try {
                browser.get(demo.url() + "/");
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
                wait.until(b -> b.findElements(By.cssSelector(".region")).size() == stack.regions().size());
                assertEquals("Lethe demo", browser.getTitle());
                List<String> shown = browser.findElements(By.cssSelector(".region h2")).stream().map(WebElement::getText).toList();
                assertEquals(stack.regions(), shown);
                assertEquals(1, browser.findElements(By.id("spm")).size(),
                        "the page shows confirmed stale entries per million shadow reads");

                Map<String, Long> first = applied(browser);
                wait.until(b -> {
                    Map<String, Long> now = applied(browser);
                    return now.keySet().stream().allMatch(r -> now.get(r) > first.getOrDefault(r, 0L) && now.get(r) > 0);
                });
                wait.until(b -> !b.findElement(By.cssSelector(".region .p99v")).getText().equals("-"));
                // readable at a glance: every chart has a y axis with its unit and a time scale, every figure its own cell and unit
                for (WebElement region : browser.findElements(By.cssSelector(".region"))) {
                    List<String> latencyTicks = texts(browser, region, ".latency .ytick");
                    List<String> lagTicks = texts(browser, region, ".lagchart .ytick");
                    assertTrue(latencyTicks.size() == 3 && latencyTicks.stream().allMatch(t -> t.matches("[0-9.]+ ms")),
                            latencyTicks.toString());
                    assertTrue(lagTicks.size() == 3 && lagTicks.stream().allMatch(t -> t.matches("[0-9.]+ s")), lagTicks.toString());
                    assertEquals(List.of("-5 min", "-4 min", "-3 min", "-2 min", "-1 min", "now"),
                            texts(browser, region, ".latency .xtick"));
                    assertEquals(List.of("invalidations", "/s", "ms", "ms", "s", "records", "s", "s"), texts(browser, region, "td.u"));
                }
                Path shot = Path.of("target", "screenshots");
                Files.createDirectories(shot);
                Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), shot.resolve("demo-status-page.png"),
                        StandardCopyOption.REPLACE_EXISTING);
            } finally {
                browser.quit();
            }
        }
    }

    /** The texts of {@code css} under {@code in}, read in one script: the charts are redrawn every second. */
    @SuppressWarnings("unchecked")
    private static List<String> texts(ChromeDriver browser, WebElement in, String css) {
        return (List<String>) browser.executeScript(
                "return Array.from(arguments[0].querySelectorAll(arguments[1])).map(e => e.textContent)", in, css);
    }

    private static Map<String, Long> applied(ChromeDriver browser) {
        Map<String, Long> out = new HashMap<>();
        for (WebElement region : browser.findElements(By.cssSelector(".region"))) {
            out.put(region.findElement(By.tagName("h2")).getText(),
                    Long.parseLong(region.findElement(By.cssSelector(".applied")).getText().replace(",", "")));
        }
        return out;
    }
}
