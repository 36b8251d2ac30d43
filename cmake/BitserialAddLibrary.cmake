# add_bitserial_library(name sources... [DEPENDS ...] [MLIR_LIBS ...] [LINK_LIBS ...])
#
# A library of this project: built as part of the exported Bitserial package and
# linked against libMLIR.so for every MLIR library named in MLIR_LIBS.
set_property(GLOBAL PROPERTY BITSERIAL_ALL_LIBS "")

# Installed tools and the plugin need libMLIR.so, which Debian keeps outside
# the loader's search path (/usr/lib/llvm-22/lib): keep the directories of
# linked libraries in the install run path, after LLVM's $ORIGIN/../lib.
set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)

function(add_bitserial_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;MLIR_LIBS;LINK_LIBS" ${ARGN})
  add_mlir_library(${name}
    ${ARG_UNPARSED_ARGUMENTS}
    DISABLE_INSTALL
    DEPENDS ${ARG_DEPENDS}
    LINK_LIBS PUBLIC ${ARG_LINK_LIBS}
  )
  if(ARG_MLIR_LIBS)
    mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  endif()
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${BITSERIAL_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${BITSERIAL_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  install(TARGETS ${name} EXPORT BitserialTargets
    LIBRARY DESTINATION lib
    ARCHIVE DESTINATION lib
    RUNTIME DESTINATION bin)
  set_property(GLOBAL APPEND PROPERTY BITSERIAL_ALL_LIBS ${name})
endfunction()
