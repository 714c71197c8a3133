# Fatbins, PTX and a cubin for test_fatbin.c, built from kernels.cu with nvcc at
# build time (every compression mode; PTX-only, mixed and SASS-only images).
# Without nvcc the list stays empty and the fatbin tests skip.
set(DARK_FATBIN_FILES "")
if(NVCC)
  set(fb ${DARK_BIN}/fatbins)
  set(cu ${DARK_SRC}/kernels.cu)
  # name | nvcc arguments (space-separated)
  set(variants
    "ptx120_default.fatbin|-fatbin -arch=compute_120 -code=compute_120 --compress-mode=default"
    "ptx120_size.fatbin|-fatbin -arch=compute_120 -code=compute_120 --compress-mode=size"
    "ptx120_speed.fatbin|-fatbin -arch=compute_120 -code=compute_120 --compress-mode=speed"
    "ptx120_none.fatbin|-fatbin -arch=compute_120 -code=compute_120 --compress-mode=none"
    "multi.fatbin|-fatbin -gencode arch=compute_80,code=compute_80 -gencode arch=compute_120,code=compute_120 -gencode arch=compute_90,code=sm_90"
    "sass90.fatbin|-fatbin -arch=compute_90 -code=sm_90"
    "sass90_lz4.fatbin|-fatbin -arch=compute_90 -code=sm_90 --compress-mode=speed -Xfatbin=-compress-all"
    "sass90_zstd.fatbin|-fatbin -arch=compute_90 -code=sm_90 --compress-mode=size"
    "compute_120.ptx|-ptx -arch=compute_120"
    "compute_80.ptx|-ptx -arch=compute_80"
    "sm_90.cubin|-cubin -arch=sm_90")
  foreach(v ${variants})
    string(FIND "${v}" "|" bar)
    string(SUBSTRING "${v}" 0 ${bar} name)
    math(EXPR bar "${bar} + 1")
    string(SUBSTRING "${v}" ${bar} -1 args)
    separate_arguments(parts UNIX_COMMAND "${args}")
    add_custom_command(OUTPUT ${fb}/${name}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${fb}
      COMMAND ${NVCC} ${parts} ${cu} -o ${fb}/${name}
      DEPENDS ${cu} COMMENT "nvcc: ${name}" VERBATIM)
    list(APPEND DARK_FATBIN_FILES ${fb}/${name})
  endforeach()
endif()
