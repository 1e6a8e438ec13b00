package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import org.jocl.CL;
import org.jocl.CLException;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Enqueues a subgraph's kernels on the device's in-order queue and returns without waiting:
 * no host synchronization inside a compute, one {@code clFinish} in {@link #synchronize}.
 * Launches are planned once per subgraph (the scheduler hands the same subgraph object to every
 * compute of a plan), so a repeated compute only sets arguments and enqueues.
 */
final class OpenClStream implements Stream {
    private static final int MAX_PLANS = 256;

    private final OpenClDevice device;
    private final Map<Subgraph, Planner.Plan> plans = new IdentityHashMap<>();

    OpenClStream(OpenClDevice device) {
        this.device = device;
    }

    @Override
    public void compute(Subgraph split) {
        if (split.device() != device) throw new IllegalArgumentException("a split of " + split.device().name() + " sent to " + device.name());
        List<Launch> launches;
        synchronized (plans) {
            Planner.Plan plan = plans.get(split);
            if (plan == null) {
                plan = Planner.plan(device, split);
                if (plans.size() >= MAX_PLANS) dropPlans(); // scratch in use by queued kernels lives until they finish
                plans.put(split, plan);
            }
            launches = plan.launches();
        }
        synchronized (device) {
            for (Launch l : launches) {
                try {
                    for (int i = 0; i < l.argSizes().length; i++) CL.clSetKernelArg(l.kernel(), i, l.argSizes()[i], l.argValues()[i]);
                    CL.clEnqueueNDRangeKernel(device.queue(), l.kernel(), l.global().length, null, l.global(), l.local(), 0, null, null);
                } catch (CLException e) {
                    throw new HearthException(device.name() + ": cannot launch the kernel for " + l.node() + ": " + Cl.status(e.getStatus()), e);
                }
            }
            CL.clFlush(device.queue());
        }
    }

    private void dropPlans() {
        plans.values().forEach(Planner.Plan::close);
        plans.clear();
    }

    @Override
    public void close() {
        synchronized (plans) {
            dropPlans();
        }
    }

    @Override
    public void synchronize() {
        synchronized (device) {
            try {
                CL.clFinish(device.queue());
            } catch (CLException e) {
                throw new HearthException(device.name() + ": a kernel failed: " + Cl.status(e.getStatus()), e);
            }
        }
    }
}
