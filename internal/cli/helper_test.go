package cli

// helperEnv makes the test binary act as a browser for the end-to-end
// tests: $BROWSER points at the test binary, and the mode says what the
// "user" does.
const helperEnv = "SPOTAUTH_TEST_BROWSER"

func browserHelper(mode string, args []string) int { return 0 }
