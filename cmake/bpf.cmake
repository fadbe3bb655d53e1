# bpf_skeleton(NAME SOURCE [HEADER...] [DEFINES MACRO...]): compile SOURCE with clang -target
# bpf into NAME.bpf.o and generate NAME.skel.h with bpftool, so the object is embedded in the
# binary (libbpf-bootstrap's pattern). HEADERs: what SOURCE includes besides bpf/*.bpf.h and
# include/trafstat/ (a benchmark's own header). MACROs: -D for another build of SOURCE.
find_program(CLANG_BPF NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
execute_process(COMMAND uname -m OUTPUT_VARIABLE BPF_HOST_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REPLACE "x86_64" "x86" BPF_TARGET_ARCH "${BPF_HOST_ARCH}")
string(REPLACE "aarch64" "arm64" BPF_TARGET_ARCH "${BPF_TARGET_ARCH}")
# Debian keeps asm/ under the multiarch include dir; clang -target bpf does not look there.
set(BPF_MULTIARCH_INCLUDE /usr/include/${BPF_HOST_ARCH}-linux-gnu)

# Every header a BPF object may include: a change to any of them rebuilds the
# objects (seconds), and adding or removing one re-runs the glob. (A clang
# depfile would be exact, but CMake 3.25's Makefile generator keeps a removed
# header in its merged dependencies and then rebuilds on every run.)
file(GLOB BPF_HEADERS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/bpf/*.bpf.h
     ${CMAKE_CURRENT_SOURCE_DIR}/include/trafstat/*.h)

function(bpf_skeleton name source)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "DEFINES")
  list(TRANSFORM arg_DEFINES PREPEND -D)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.skel.h)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CLANG_BPF} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            ${arg_DEFINES} -Wall -Werror
            -I${CMAKE_CURRENT_SOURCE_DIR}/include -I${CMAKE_CURRENT_SOURCE_DIR}/bpf
            -I${BPF_MULTIARCH_INCLUDE}
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    DEPENDS ${source} ${BPF_HEADERS} ${arg_UNPARSED_ARGUMENTS}
    COMMENT "BPF ${source}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h")
  add_custom_target(${name}_skel DEPENDS ${skel})
endfunction()
