# RpcGen.cmake — build-time generation from cuda.h + rpc/cuda.annot (rpc/gen/gen_calls.py).
# Included by rpc/CMakeLists.txt; a shim's CMakeLists may include it too (it is guarded)
# because client-shim/ is configured before rpc/.
include_guard(GLOBAL)

set(RG_GEN_CALLS ${CMAKE_CURRENT_LIST_DIR}/gen/gen_calls.py CACHE INTERNAL "")
# cuda.annot holds the format and the general rules; rpc/annot/*.annot hold areas
# (graphs, modules, memory, ...), read after it in name order. A name may be
# annotated once across all of them.
file(GLOB RG_CUDA_ANNOT_PARTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/annot/*.annot)
list(SORT RG_CUDA_ANNOT_PARTS)
set(RG_CUDA_ANNOT ${CMAKE_CURRENT_LIST_DIR}/cuda.annot ${RG_CUDA_ANNOT_PARTS} CACHE INTERNAL "")
set(_rg_annot_args "")
foreach(f ${RG_CUDA_ANNOT})
  list(APPEND _rg_annot_args --annot ${f})
endforeach()

# The command line every generation shares; outputs are appended by the caller.
set(RG_GEN_CALLS_CMD ${Python3_EXECUTABLE} ${RG_GEN_CALLS} --stub ${CUDA_STUB_LIB}
    --include ${CUDA_INCLUDE_DIR} ${_rg_annot_args} --cc ${CMAKE_C_COMPILER}
    CACHE INTERNAL "")

# rg_rpc_client_stubs(target)
# Generates, into the build tree, <target>_rpc_stubs.c: the exported entry point of
# every FORWARD and CUSTOM driver function with its exact cuda.h signature, packing
# `void *args[]` and returning rg_shim_forward(&rpc_calls[op - 1], args)
# (client-shim/cuda/forward.h). CLIENT functions are the shim's own; the rest are
# covered by darkapi's weak "not supported" definitions (rg_driver_exports).
function(rg_rpc_client_stubs target)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_rpc_stubs.c)
  add_custom_command(OUTPUT ${out}
    COMMAND ${RG_GEN_CALLS_CMD} --stubs ${out}
    DEPENDS ${RG_GEN_CALLS} ${RG_CUDA_ANNOT} ${CUDA_STUB_LIB}
    COMMENT "Generating forwarded driver entry points for ${target}")
  target_sources(${target} PRIVATE ${out})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/client-shim/cuda
                             ${PROJECT_SOURCE_DIR}/rpc ${CUDA_INCLUDE_DIR})
endfunction()
