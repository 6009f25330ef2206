package main

import "net/http"

// operatorRoutes adds the on-demand operator requests to serve's admin
// listener (see adminHandler for how they are guarded).
func (srv *server) operatorRoutes(mux *http.ServeMux) {}
