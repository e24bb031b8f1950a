// Test helper shared by the loader tests: expects a lastrank::Error whose message contains
// every given fragment (messages must say what was expected and what was found).
#pragma once
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "core/error.h"

namespace lastrank {

template <typename F>
void expect_error(F&& f, std::initializer_list<const char*> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected an Error containing \"" << *fragments.begin() << "\"";
  } catch (const Error& e) {
    for (const char* frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << "message: " << e.what() << "\nmissing: " << frag;
  }
}

}  // namespace lastrank
