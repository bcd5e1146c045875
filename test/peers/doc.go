// Package peers finds and starts real SIP peers for opdesk's tests: Kamailio
// (registrar and proxy), baresip and linphonec (softphones), sipp (scripted
// UAC/UAS) and a PulseAudio daemon with a null sink.
//
// It installs nothing. A missing binary makes the test skip loudly (see
// [Require]); with OPDESK_REQUIRE_PEERS=1 in the environment, as CI sets it,
// the test fails instead. Every peer listens on 127.0.0.1 on free ports, keeps
// its configuration and logs in t.TempDir(), is killed with its whole process
// group in t.Cleanup and, when the test failed, has the tail of its logs
// printed with t.Logf.
//
// Configurations are templates under testdata/, embedded into the package so
// tests in other packages can use them.
package peers
