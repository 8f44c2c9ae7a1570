package io.lethe.capture;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;

/** Runs cdc-capture in a child JVM until it is killed: args = config file [, capture shard]. */
public final class CaptureProcessMain {
    private CaptureProcessMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        LetheConfig loaded = ConfigLoader.load(Path.of(args[0]));
        LetheConfig config = args.length > 1 ? loaded.forShard(args[1]) : loaded;
        CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(capture::close));
        capture.start();
        System.out.println("CAPTURE-STREAMING");
        Thread.currentThread().join();
    }
}
