//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

func openUnnamed(string, string) (*os.File, error) { return nil, errors.ErrUnsupported }

func linkUnnamed(*os.File, string) (string, error) { return "", errors.ErrUnsupported }
