package dev.hearth.backend.opencl;

import org.jocl.CL;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.util.Set;

/**
 * What Hearth needs to know of one OpenCL device, asked of the driver once.
 *
 * @param subgroupOptions build options that turn on sub-group reductions, or "" where the device has none
 * @param dotOptions build options that turn on int8 dot products (cl_khr_integer_dot_product), or ""
 */
record DeviceInfo(String name, String platform, String vendor, String driverVersion, String version,
                  String clangVersion, boolean gpu, long globalMemory, long maxAlloc, long maxWorkGroup,
                  long localMemory, int computeUnits, Set<String> extensions, String subgroupOptions,
                  String dotOptions) {

    static DeviceInfo query(cl_platform_id p, cl_device_id d) {
        String ext = Cl.deviceString(d, CL.CL_DEVICE_EXTENSIONS);
        Set<String> exts = Set.of(ext.isBlank() ? new String[0] : ext.trim().split("\\s+"));
        String cVersion = Cl.deviceString(d, CL.CL_DEVICE_OPENCL_C_VERSION); // "OpenCL C 1.2 ..."
        long type = Cl.deviceLong(d, CL.CL_DEVICE_TYPE);
        String sub = "";
        if (!"false".equals(System.getProperty("hearth.opencl.subgroups"))) {
            if (exts.contains("cl_intel_subgroups")) sub = "-DHEARTH_SUBGROUPS -DHEARTH_INTEL_SUBGROUPS";
            else if (exts.contains("cl_khr_subgroups") && cMajor(cVersion) >= 2) sub = "-cl-std=CL2.0 -DHEARTH_SUBGROUPS";
        }
        return new DeviceInfo(Cl.deviceString(d, CL.CL_DEVICE_NAME), Cl.platformString(p, CL.CL_PLATFORM_NAME),
                Cl.deviceString(d, CL.CL_DEVICE_VENDOR), Cl.deviceString(d, CL.CL_DRIVER_VERSION),
                Cl.deviceString(d, CL.CL_DEVICE_VERSION), cVersion, (type & CL.CL_DEVICE_TYPE_GPU) != 0,
                Cl.deviceLong(d, CL.CL_DEVICE_GLOBAL_MEM_SIZE), Cl.deviceLong(d, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                Cl.deviceSize(d, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE), Cl.deviceLong(d, CL.CL_DEVICE_LOCAL_MEM_SIZE),
                Cl.deviceInt(d, CL.CL_DEVICE_MAX_COMPUTE_UNITS), exts, sub,
                exts.contains("cl_khr_integer_dot_product") ? "-DHEARTH_INTEGER_DOT" : "");
    }

    private static int cMajor(String cVersion) {
        var m = java.util.regex.Pattern.compile("OpenCL C (\\d+)").matcher(cVersion);
        return m.find() ? Integer.parseInt(m.group(1)) : 1;
    }

    boolean has(String extension) {
        return extensions.contains(extension);
    }
}
