package io.lethe.region;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;

/** Runs one region consumer in a child JVM until it is killed: args = config file, region. */
public final class RegionProcessMain {
    private RegionProcessMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        LetheConfig config = ConfigLoader.load(Path.of(args[0]));
        RegionConsumerService service = new RegionConsumerService(config, args[1], new SimpleMeterRegistry(), Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        service.start();
        System.out.println("REGION-STARTED " + args[1]);
        Thread.currentThread().join();
    }
}
