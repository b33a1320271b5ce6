// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for Rolecall (`make fuzz`). A package of its own, so that `swift build` and `make test` of the
// main package never build or resolve these. Each target only builds meaningfully with the fuzzer sanitizer:
//   swift build -c release --scratch-path ../.build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product fuzz-language
// (libFuzzer supplies `main` and calls each target's `LLVMFuzzerTestOneInput`).
let package = Package(
    name: "RolecallFuzz",
    dependencies: [.package(name: "Rolecall", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CLibFuzzer", .product(name: "RolecallEngine", package: "Rolecall")]
        ),
        .executableTarget(
            name: "fuzz-language",
            dependencies: ["FuzzSupport", .product(name: "RolecallLanguage", package: "Rolecall")]
        ),
        .executableTarget(
            name: "fuzz-events",
            dependencies: ["FuzzSupport", .product(name: "RolecallEngine", package: "Rolecall")]
        ),
        .executableTarget(
            name: "fuzz-format",
            dependencies: ["FuzzSupport", .product(name: "RolecallLanguage", package: "Rolecall")]
        ),
        .executableTarget(
            name: "fuzz-suites",
            dependencies: [
                "FuzzSupport",
                .product(name: "RolecallSuites", package: "Rolecall"),
                .product(name: "RolecallEngine", package: "Rolecall"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
