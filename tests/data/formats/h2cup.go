// h2cup serves files over cleartext HTTP/2 reached by Upgrade: h2c (or prior knowledge).
package main

import (
	"net/http"
	"os"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	h := h2c.NewHandler(http.FileServer(http.Dir(os.Args[2])), &http2.Server{})
	if err := http.ListenAndServe(os.Args[1], h); err != nil {
		panic(err)
	}
}
