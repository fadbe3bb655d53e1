# Run by `cmake --install` (and CPack): installs the agent's systemd unit and its defaults file
# for the prefix given at install time, which the unit must name: its ExecStart= is the installed
# binary, its EnvironmentFile= the installed defaults (dist/systemd names /usr/sbin/trafstat and
# /etc/default/trafstat, the package's). Set by cmake/install.cmake: trafstat_source_dir,
# trafstat_binary_dir, trafstat_sbindir, trafstat_unit_dir (relative to the prefix).

# /etc for the /usr prefix, <prefix>/etc otherwise (as GNUInstallDirs' CMAKE_INSTALL_FULL_SYSCONFDIR).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir /etc)
else()
  set(sysconfdir ${CMAKE_INSTALL_PREFIX}/etc)
endif()

file(READ ${trafstat_source_dir}/dist/systemd/trafstat-agent.service unit)
string(REPLACE "/usr/sbin/trafstat" "${CMAKE_INSTALL_PREFIX}/${trafstat_sbindir}/trafstat" unit "${unit}")
string(REPLACE "/etc/default/trafstat" "${sysconfdir}/default/trafstat" unit "${unit}")
set(staged ${trafstat_binary_dir}/install/trafstat-agent.service)
file(WRITE ${staged} "${unit}")

# file(INSTALL) puts $DESTDIR in front and records the files in install_manifest.txt.
file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/${trafstat_unit_dir} TYPE FILE FILES ${staged})
file(INSTALL DESTINATION ${sysconfdir}/default TYPE FILE FILES ${trafstat_source_dir}/dist/default/trafstat)
