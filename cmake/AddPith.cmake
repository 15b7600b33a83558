# Small wrappers that keep Pith's libraries in one list, so tools link
# ${PITH_LIBS} instead of hand-kept lists.

# add_pith_library(name SOURCES... [LINK libs...] [DEPENDS targets...])
function(add_pith_library name)
  cmake_parse_arguments(ARG "" "" "LINK;DEPENDS" ${ARGN})
  add_library(${name} STATIC ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PUBLIC MLIR LLVM ${ARG_LINK})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  set_property(GLOBAL APPEND PROPERTY PITH_ALL_LIBS ${name})
endfunction()

# add_pith_tool(name SOURCES...): a binary in build/bin linking every Pith library.
function(add_pith_tool name)
  add_executable(${name} ${ARGN})
  get_property(libs GLOBAL PROPERTY PITH_ALL_LIBS)
  # Static archives that reference each other: let the linker rescan them.
  target_link_libraries(${name} PRIVATE -Wl,--start-group ${libs} -Wl,--end-group MLIR LLVM)
  foreach(lib ${libs})
    add_dependencies(${name} ${lib})
  endforeach()
endfunction()
