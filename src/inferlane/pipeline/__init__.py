"""The request pipeline: decide stages, interceptors around the upstream call, and their composition."""
