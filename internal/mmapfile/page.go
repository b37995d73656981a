package mmapfile

import "os"

var pageSize = os.Getpagesize()
