package auth

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// ErrNoBrowser is returned by SystemBrowser when no browser can be shown
// (no display, or a session over SSH).
var ErrNoBrowser = errors.New("no browser available")

// SystemBrowser opens url in the desktop's browser, for Config.OpenBrowser.
// It does not wait for the browser, and its output goes nowhere.
func SystemBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		if os.Getenv("SSH_CONNECTION") != "" {
			return ErrNoBrowser
		}
		cmd = exec.Command("open", url)
	default:
		// Without a display (a server, SSH without X forwarding) xdg-open
		// would start a text browser in this very terminal.
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return ErrNoBrowser
		}
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("opening a browser: %w", err)
	}
	go cmd.Wait() // reap it
	return nil
}
