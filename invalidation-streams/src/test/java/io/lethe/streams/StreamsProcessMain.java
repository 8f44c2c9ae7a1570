package io.lethe.streams;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;

/** Runs one invalidation-streams instance in a child JVM until it is killed: args = config file, instance id. */
public final class StreamsProcessMain {
    private StreamsProcessMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        LetheConfig config = ConfigLoader.load(Path.of(args[0]));
        StreamsService service = new StreamsService(config, new SimpleMeterRegistry(), Clock.systemUTC(), args[1]);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        service.start();
        while (service.state() != org.apache.kafka.streams.KafkaStreams.State.RUNNING) {
            Thread.sleep(50);
        }
        System.out.println("STREAMS-RUNNING " + args[1]);
        Thread.currentThread().join();
    }
}
