# `make deb`: a Debian package of what cmake/install.cmake installs, made by CPack under the /usr
# prefix. Its version and maintainer are those of the newest entry of dist/debian/changelog,
# whose upstream part must be the project's version; its Depends are computed by
# dpkg-shlibdeps (package dpkg-dev) from the binary's libraries. No maintainer scripts: the unit
# is installed, never enabled nor started.
set(TRAFSTAT_DEBIAN_DIR ${CMAKE_SOURCE_DIR}/dist/debian)

file(STRINGS ${TRAFSTAT_DEBIAN_DIR}/changelog changelog_lines)
list(GET changelog_lines 0 changelog_head)
if(NOT changelog_head MATCHES "^trafstat \\(([^-]+)-([^)]+)\\) ")
  message(FATAL_ERROR "dist/debian/changelog: the first line is not 'trafstat (VERSION-REVISION) ...'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "dist/debian/changelog's newest entry is ${CMAKE_MATCH_1}, the project ${PROJECT_VERSION}: "
                      "add an entry for ${PROJECT_VERSION}")
endif()
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CMAKE_MATCH_2})
foreach(line IN LISTS changelog_lines)
  if(line MATCHES "^ -- (.+>)  ")
    set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CMAKE_MATCH_1}")
    break()
  endif()
endforeach()

# What only the package has, staged under the package's root: the copyright (machine-readable
# format), the changelog (gzip -9n) and lintian's overrides, with their reasons.
set(TRAFSTAT_DEBIAN_STAGE ${CMAKE_BINARY_DIR}/debian-only)
set(debian_doc ${TRAFSTAT_DEBIAN_STAGE}/usr/share/doc/trafstat)
set(debian_overrides ${TRAFSTAT_DEBIAN_STAGE}/usr/share/lintian/overrides)
add_custom_command(
  OUTPUT ${debian_doc}/copyright ${debian_doc}/changelog.Debian.gz ${debian_overrides}/trafstat
  COMMAND ${CMAKE_COMMAND} -E make_directory ${debian_doc} ${debian_overrides}
  COMMAND ${CMAKE_COMMAND} -E copy ${TRAFSTAT_DEBIAN_DIR}/copyright ${debian_doc}/copyright
  COMMAND gzip -9n < ${TRAFSTAT_DEBIAN_DIR}/changelog > ${debian_doc}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E copy ${TRAFSTAT_DEBIAN_DIR}/lintian-overrides ${debian_overrides}/trafstat
  DEPENDS ${TRAFSTAT_DEBIAN_DIR}/copyright ${TRAFSTAT_DEBIAN_DIR}/changelog ${TRAFSTAT_DEBIAN_DIR}/lintian-overrides)
add_custom_target(debian_files ALL DEPENDS ${debian_doc}/copyright ${debian_doc}/changelog.Debian.gz
                                           ${debian_overrides}/trafstat)
set(CPACK_INSTALLED_DIRECTORIES "${TRAFSTAT_DEBIAN_STAGE};.")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME trafstat)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/deb)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # trafstat_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS prometheus)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${TRAFSTAT_DEBIAN_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)  # the debugging symbols stay in the build directory's binary
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "traffic counter per protocol class in the kernel (XDP/TC, eBPF)")
set(CPACK_PACKAGE_DESCRIPTION
    "trafstat attaches a small BPF program at XDP or TC and counts every frame in
per-CPU maps, per protocol class (IPv4, IPv6, ARP, TCP, UDP, ICMP...), with
optional tables of flows, talkers and ports and the kernel's drops per reason,
and prints packets/s and bits/s every interval, as lines, NDJSON or a
full-screen view. It replays pcap and pcapng captures through the same
program, generates test traffic from inside the kernel, and exports flows
over IPFIX.
.
trafstat agent keeps pinned attachments counting with no process and serves
Prometheus metrics; a systemd unit (trafstat-agent.service, not enabled on
install) runs it.")
include(CPack)
