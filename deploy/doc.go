// Package deploy holds what runs liverec as a systemd service (liverec.service, liverec.env,
// README.md); it has no code, only tests that check those files against systemd and liverec.
package deploy
