/// The version of Rolecall, as `rules --version` and `/metrics` (`rolecall_build_info`) report it. It lives in
/// the lowest module that both the command-line tools and the server use, so that there is one of it.
public let rolecallVersion = "0.5.0"
