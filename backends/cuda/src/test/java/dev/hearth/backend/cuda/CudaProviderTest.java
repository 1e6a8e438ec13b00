package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.BackendProvider;
import dev.hearth.runtime.backend.Device;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery never throws: on a machine without a driver or GPU it is empty and says why in one line. */
class CudaProviderTest {
    @Test
    void foundByServiceLoader() {
        BackendProvider p = Backends.provider("cuda");
        assertNotNull(p, "META-INF/services registers the CUDA provider");
        assertTrue(p instanceof CudaProvider);
    }

    @Test
    void devicesOrOneLineReason() {
        CudaProvider p = new CudaProvider();
        List<Device> devices = p.devices();
        assertSame(devices, p.devices(), "discovery runs once");
        if (devices.isEmpty()) {
            String why = p.unavailableReason();
            assertTrue(why.startsWith("no CUDA driver or device found ("), why);
            assertTrue(why.endsWith(")"), why);
            assertFalse(why.contains("\n") || why.contains("\r"), "one line: " + why);
            assertTrue(why.length() < 400, why);
        } else {
            for (Device d : devices) {
                assertTrue(d.name().startsWith("cuda:"), d.name());
                assertTrue(d.isGpu());
                assertFalse(d.isHost());
                assertSame(p, d.provider());
                assertTrue(d.memory().total() > 0);
            }
        }
    }

    @Test
    void nameAndPriority() {
        CudaProvider p = new CudaProvider();
        assertEquals("cuda", p.name());
        assertTrue(p.priority() < 500, "GPUs come before the CPU in auto choices");
    }
}
