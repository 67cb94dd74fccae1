/**
 * The real hawkBit server for tests: started once per test run from {@code <repo>/../shared/hawkbit},
 * and its Management API as an operator uses it.
 */
package io.otaflux.hawkbit.testing;
