# What `make install` (cmake --install) puts where: FHS places from GNUInstallDirs, under the
# prefix (/usr/local by default, /usr in the package), DESTDIR honoured.
#   sbin/trafstat
#   share/man/man8/trafstat.8.gz
#   share/bash-completion/completions/trafstat
#   lib/systemd/system/trafstat-agent.service   (TRAFSTAT_SYSTEMD_UNIT_DIR)
#   /etc/default/trafstat                       (<prefix>/etc/default/trafstat outside /usr)
#   share/doc/trafstat/examples/prometheus/     the alerting rules and the fleet's configurations
include(GNUInstallDirs)
# Installing builds nothing (make install and make deb build what they install first): CPack's
# install would otherwise build every target, the tests and benchmarks too.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# Relative to the prefix: /usr/lib/systemd/system in the package (Debian's standard place, lintian
# says), /usr/local/lib/systemd/system for make install; systemd reads both.
set(TRAFSTAT_SYSTEMD_UNIT_DIR lib/systemd/system CACHE STRING
    "Where the systemd unit is installed, relative to the install prefix")

install(TARGETS trafstat RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${TRAFSTAT_MANPAGE}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${TRAFSTAT_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME trafstat)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/dist/prometheus/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/prometheus)
install(CODE "set(trafstat_source_dir \"${CMAKE_SOURCE_DIR}\")
  set(trafstat_binary_dir \"${CMAKE_BINARY_DIR}\")
  set(trafstat_sbindir \"${CMAKE_INSTALL_SBINDIR}\")
  set(trafstat_unit_dir \"${TRAFSTAT_SYSTEMD_UNIT_DIR}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/cmake/install_service.cmake)
