// The test runner of CAF's unit-test framework; one CTest test per suite.
#include <caf/test/unit_test_impl.hpp>
