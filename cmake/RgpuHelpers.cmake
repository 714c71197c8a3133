# Test and code-generation helpers shared by every folder.

# rg_add_test(NAME name SOURCES ... [LIBS ...] [LABELS ...] [ARGS ...])
# A plain unit test: an executable run once.
function(rg_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS;ENV" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} Threads::Threads)
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77 LABELS "${T_LABELS}")
  if(T_TIMEOUT)
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
  endif()
  if(T_ENV)
    set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${T_ENV}")
  endif()
endfunction()

# The backends the driver-API suite runs against. Each entry: name and the
# LD_LIBRARY_PATH that selects its libcuda.so.1. The remoting work adds the
# client shim over rgpud (tcp, ucx) here; the tests themselves do not change.
set(RG_DRIVER_BACKENDS "simgpu;tcp" CACHE INTERNAL "")
set(RG_BACKEND_simgpu_LIBPATH ${CMAKE_BINARY_DIR}/lib/simgpu CACHE INTERNAL "")
# tcp: the client shim over a fresh rgpud (simgpu backend) on a loopback port.
# The wrapper sets LD_LIBRARY_PATH for the test program only (not for rgpud)
# and skips, with their reasons, the cases listed in tests/remote/tcp-exclude.txt.
set(RG_TCP_EXCLUDE ${PROJECT_SOURCE_DIR}/tests/remote/tcp-exclude.txt CACHE INTERNAL "")
set(_rg_remote_run ${PROJECT_SOURCE_DIR}/tests/remote/run-remote.sh ${CMAKE_BINARY_DIR}/bin/rgpud
    ${CMAKE_BINARY_DIR}/lib/rgpu ${RG_TCP_EXCLUDE})
set(RG_BACKEND_tcp_LIBPATH "" CACHE INTERNAL "")
set(RG_BACKEND_tcp_WRAPPER ${_rg_remote_run} CACHE INTERNAL "")
set(RG_BACKEND_tcp_DEPENDS rgpu_shim rgpud CACHE INTERNAL "")
# ucx, ucx_sm: the same over ucx:// (lib/rgpu/librgpu_ucx.so), once with UCX_TLS=tcp
# and once over shared memory (no HCA here). transport/ucx/CMakeLists.txt adds them
# to RG_DRIVER_BACKENDS when UCX is found.
foreach(b ucx ucx_sm)
  if(b STREQUAL "ucx")
    set(tls tcp)
  else()
    set(tls sm,self)
  endif()
  set(RG_BACKEND_${b}_LIBPATH "" CACHE INTERNAL "")
  set(RG_BACKEND_${b}_WRAPPER env RGPU_TEST_SCHEME=ucx UCX_TLS=${tls} ${_rg_remote_run}
      CACHE INTERNAL "")
  set(RG_BACKEND_${b}_DEPENDS rgpu_shim rgpud rgpu_ucx CACHE INTERNAL "")
endforeach()

# rg_driver_test(NAME name SOURCES ... [LABELS ...])
# A test written against the public cuda.h only; linked to "libcuda.so.1" by
# soname without an rpath and run once per backend as name.<backend>.
function(rg_driver_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LABELS;ENV" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${CUDA_INCLUDE_DIR})
  target_link_libraries(${T_NAME} PRIVATE ${CUDA_STUB_LIB} Threads::Threads m)
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests
                        SKIP_BUILD_RPATH ON)
  add_dependencies(${T_NAME} simgpu)
  set(srcs)
  foreach(f ${T_SOURCES})
    get_filename_component(f ${f} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND srcs ${f})
  endforeach()
  foreach(b ${RG_DRIVER_BACKENDS})
    if(RG_BACKEND_${b}_WRAPPER)
      add_test(NAME ${T_NAME}.${b} COMMAND ${RG_BACKEND_${b}_WRAPPER} ${T_NAME}
               $<TARGET_FILE:${T_NAME}> ${srcs})
      foreach(dep ${RG_BACKEND_${b}_DEPENDS})
        if(TARGET ${dep})
          add_dependencies(${T_NAME} ${dep})
        endif()
      endforeach()
    else()
      add_test(NAME ${T_NAME}.${b} COMMAND ${T_NAME})
    endif()
    set_tests_properties(${T_NAME}.${b} PROPERTIES SKIP_RETURN_CODE 77
      LABELS "driver;${b};${T_LABELS}"
      ENVIRONMENT "LD_LIBRARY_PATH=${RG_BACKEND_${b}_LIBPATH};RG_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data;${T_ENV}")
    if(T_TIMEOUT)
      set_tests_properties(${T_NAME}.${b} PROPERTIES TIMEOUT ${T_TIMEOUT})
    endif()
  endforeach()
endfunction()

# rg_remote_program_test(NAME name COMMAND exe [args...] [LABELS ...] [ENV ...] [TIMEOUT s])
# The test <name>.tcp: an unmodified program (nvcc-built, cudart static or shared,
# NVIDIA libraries) run through `rgpu-run` against a private rgpud (simgpu backend)
# on a free loopback port (tests/remote/with-rgpud.sh). Labels: tcp, remote + LABELS.
# A line "<name> REASON" in tests/remote/tcp-exclude.txt makes it a skip that prints
# the reason.
function(rg_remote_program_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS;ENV" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${RG_TCP_EXCLUDE})
  file(STRINGS ${RG_TCP_EXCLUDE} excluded REGEX "^${T_NAME} ")
  if(excluded)
    list(GET excluded 0 why)
    add_test(NAME ${T_NAME}.tcp COMMAND sh -c "printf 'SKIP (tests/remote/tcp-exclude.txt): %s\\n' \"$1\"; exit 77"
             sh "${why}")
  else()
    add_test(NAME ${T_NAME}.tcp
             COMMAND ${PROJECT_SOURCE_DIR}/tests/remote/with-rgpud.sh ${CMAKE_BINARY_DIR}/bin/rgpud ""
                     -- ${CMAKE_BINARY_DIR}/bin/rgpu-run -- ${T_COMMAND})
  endif()
  set_tests_properties(${T_NAME}.tcp PROPERTIES LABELS "tcp;remote;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       SKIP_RETURN_CODE 77 ENVIRONMENT "${T_ENV}")
endfunction()

# rg_driver_exports(target)
# Generates, into the build tree, <target>_exports.c: a weak definition of every
# symbol the toolkit's stub libcuda.so exports (returning CUDA_ERROR_NOT_SUPPORTED
# and logging the name once; the driver's own definitions override them) and
# the version/flag table behind cuGetProcAddress, built from cudaTypedefs.h.
function(rg_driver_exports target)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_exports.c)
  add_custom_command(OUTPUT ${out}
    COMMAND ${Python3_EXECUTABLE} ${RG_GEN_EXPORTS}
            --stub ${CUDA_STUB_LIB} --typedefs ${CUDA_INCLUDE_DIR}/cudaTypedefs.h
            --cuda-h ${CUDA_INCLUDE_DIR}/cuda.h --out ${out}
    DEPENDS ${RG_GEN_EXPORTS} ${CUDA_STUB_LIB}
    COMMENT "Generating driver exports and cuGetProcAddress table for ${target}")
  target_sources(${target} PRIVATE ${out})
endfunction()
