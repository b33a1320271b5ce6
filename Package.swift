// swift-tools-version:6.0
import PackageDescription

// The pipeline, one module per stage:
//   RolecallJSON      the one JSON text writer, the RFC 3339 parser, safe text for reports; no dependencies
//   RolecallRegex     PCRE2 (system libpcre2-8) behind a small owning Swift type
//   RolecallLanguage  source, lexer, parser, AST, diagnostics, schema, checker (pure, no I/O)
//   CJSONIndex        the event reader's SIMD pass (AVX2/SSE2 in C) that marks where strings need a look
//   RolecallEngine    byte-level event reader, compiler, evaluator, decision (pure, no I/O)
//   RolecallFiles     finding, reading and writing rule files, on Glibc alone (no Foundation)
//   RolecallSuites    YAML test suites, coverage and JUnit for `rules test` (files, Yams)
//   CCurlShim         typed wrappers for libcurl's variadic C functions
//   RolecallEffects   the Auth0 Management API client on libcurl, planner, retries, rate limiting, runner
//   RolecallOutbox    the durable outbox and decision log on SQLite (system libsqlite3), and its worker
//   RolecallSandbox   an Auth0 Management API look-alike on SwiftNIO, with fault injection
//   RolecallServer    the `rules serve` webhook on Hummingbird 2: auth, limits, hot reload, metrics
//   RolecallLSP       `rules lsp`: a Language Server Protocol server over stdio on the checker and formatter (no Foundation)
//   RolecallCommandLine  the commands `check`, `eval`, `diff` and `fmt`, with their options and I/O (no Foundation)
//   rules             the lean command-line tool: those four commands and `lsp`, and every other one handed to rules-full
//   rules-full        every command: `test`, `apply`, `serve`, `sandbox`, `outbox`, `log`, help
//   BenchSupport      what rolecall-bench and rolecall-load-bench share: whole-file I/O, messages, durations
// The language and engine modules depend on nothing but PCRE2, so they build and test in seconds
// and can be embedded in any Swift server.
let package = Package(
    name: "Rolecall",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RolecallJSON", targets: ["RolecallJSON"]),
        .library(name: "RolecallLanguage", targets: ["RolecallLanguage"]),
        .library(name: "RolecallEngine", targets: ["RolecallEngine"]),
        .library(name: "RolecallSuites", targets: ["RolecallSuites"]),
        .library(name: "RolecallDiff", targets: ["RolecallDiff"]),
        .executable(name: "rules", targets: ["rules"]),
        .executable(name: "rules-full", targets: ["rules-full"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(name: "RolecallJSON"),
        .target(name: "RolecallRegex", dependencies: ["CPCRE2"]),
        .target(name: "RolecallLanguage", dependencies: ["RolecallJSON", "RolecallRegex"]),
        .target(name: "CJSONIndex"),
        .target(
            name: "RolecallEngine", dependencies: ["CJSONIndex", "RolecallJSON", "RolecallLanguage", "RolecallRegex"]),
        .target(name: "RolecallFiles", dependencies: ["RolecallLanguage"]),
        .target(name: "RolecallSuites", dependencies: ["RolecallJSON", "RolecallEngine", "RolecallFiles", "Yams"]),
        .target(name: "RolecallDiff", dependencies: ["RolecallJSON", "RolecallEngine"]),
        .target(name: "CCurlShim", linkerSettings: [.linkedLibrary("curl")]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "RolecallEffects",
            dependencies: [
                "RolecallJSON", "RolecallEngine", "CCurlShim", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RolecallOutbox",
            dependencies: [
                "CSQLite", "RolecallJSON", "RolecallEngine", "RolecallEffects",
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "RolecallSandbox",
            dependencies: [
                "RolecallJSON",
                "RolecallEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .target(
            name: "RolecallServer",
            dependencies: [
                "RolecallJSON", "RolecallEngine", "RolecallFiles", "RolecallEffects", "RolecallOutbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "RolecallLSP", dependencies: ["RolecallJSON", "RolecallLanguage", "RolecallEngine", "RolecallFiles"]),
        .target(
            name: "RolecallCommandLine",
            dependencies: [
                "RolecallJSON", "RolecallLanguage", "RolecallEngine", "RolecallDiff", "RolecallFiles", "RolecallLSP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `rules` starts in a few milliseconds because it links nothing but the engine and ArgumentParser: no
        // Foundation, libcurl, SQLite or NIO (a test runs ldd on it), and the Swift runtime statically (2 ms of
        // its 4 were the loader binding libswiftCore and its companions). Any command it does not own it hands
        // to `rules-full`, beside it, with execv. README, "Two binaries".
        // The C and C++ runtimes' share of that start-up is cut the same way: libstdc++ (for the few dozen
        // functions the Swift runtime uses) and libgcc are linked statically too, which spares the loader opening
        // and relocating two libraries (0.4 ms of a one-event `rules eval`). `-static-stdlib` asks for `-lstdc++`
        // itself, so StaticLibstdc++/ holds a linker script of that name, searched first, that names the archive.
        .executableTarget(
            name: "rules",
            dependencies: [
                "RolecallCommandLine", "RolecallFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["StaticLibstdc++"],
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib", "-L", Context.packageDirectory + "/Sources/rules/StaticLibstdc++",
                    "-Xclang-linker", "-static-libgcc",
                ]),
                .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"),
                .linkedLibrary("swiftSynchronization"),
            ]
        ),
        .executableTarget(
            name: "rules-full",
            dependencies: [
                "RolecallCommandLine",
                "RolecallJSON",
                "RolecallEngine",
                "RolecallLanguage",
                "RolecallFiles",
                "RolecallSuites",
                "RolecallEffects",
                "RolecallOutbox",
                "RolecallSandbox",
                "RolecallServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "BenchSupport"),
        .executableTarget(name: "rolecall-bench", dependencies: ["BenchSupport", "RolecallEngine"]),
        .executableTarget(
            name: "rolecall-load-bench", dependencies: ["BenchSupport", "RolecallEngine", "RolecallLanguage"]),
        .testTarget(
            name: "RolecallLanguageTests", dependencies: ["RolecallJSON", "RolecallLanguage"], exclude: ["Golden"]),
        .testTarget(name: "RolecallEngineTests", dependencies: ["CJSONIndex", "RolecallEngine", "RolecallLanguage"]),
        .testTarget(name: "RolecallSuitesTests", dependencies: ["RolecallFiles", "RolecallSuites"]),
        .testTarget(name: "RolecallDiffTests", dependencies: ["RolecallDiff", "RolecallEngine", "RolecallLanguage"]),
        .testTarget(
            name: "RolecallEffectsTests",
            dependencies: [
                "RolecallEffects", "RolecallJSON", "RolecallSandbox", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RolecallServerTests",
            dependencies: [
                "RolecallServer", "RolecallEngine", "RolecallLanguage", "RolecallOutbox", "RolecallEffects",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "RolecallOutboxTests",
            dependencies: ["RolecallOutbox", "RolecallEffects", "RolecallEngine", "RolecallSandbox"]
        ),
        .testTarget(name: "RolecallLSPTests"),
        .testTarget(name: "RulesCLITests", dependencies: ["RolecallEngine", "RolecallSandbox"]),
    ],
    swiftLanguageModes: [.v6]
)
