/// The shape of a field in the Auth0 post-login event, as far as Auth0 documents it.
///
/// Every field may be absent, so every type here also admits `null`.
public indirect enum FieldType: Sendable, Equatable {
    /// Anything: user-defined metadata, request bodies.
    case any
    case bool
    case number
    case string
    /// A list whose elements have this type.
    case list(FieldType)
    /// An object with these documented fields; other names are unknown (a warning, not an error).
    case object([String: FieldType])
    /// An object with arbitrary keys whose values have this type (`metadata`: map of string).
    case map(FieldType)

    /// How the type reads in a message: "a string", "a list of strings".
    public var phrase: String {
        switch self {
        case .any: "a value of any type"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .list(let element):
            switch element {
            case .string: "a list of strings"
            case .object: "a list of objects"
            default: "a list"
            }
        case .object, .map: "an object"
        }
    }
}

/// The typed schema of the Auth0 post-login event (`PostLoginV3Event`), used to check rule paths.
public enum EventSchema {
    /// `logins_count` alone means `stats.logins_count`.
    public static let aliases: [String: [String]] = ["logins_count": ["stats", "logins_count"]]

    private static func strings(_ names: String...) -> [String: FieldType] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, FieldType.string) })
    }

    private static func merge(_ parts: [String: FieldType]...) -> [String: FieldType] {
        parts.reduce(into: [:]) { result, part in result.merge(part) { $1 } }
    }

    /// The event's top-level fields and their types.
    public static let root: FieldType = .object([
        "user": .object(
            merge(
                strings(
                    "user_id", "email", "created_at", "updated_at", "last_password_reset", "name", "nickname",
                    "given_name", "family_name", "picture", "username", "phone_number"),
                [
                    "email_verified": .bool, "phone_verified": .bool, "app_metadata": .any, "user_metadata": .any,
                    "multifactor": .list(.string),
                    "identities": .list(
                        .object([
                            "connection": .string, "isSocial": .bool, "provider": .string, "user_id": .string,
                            "profileData": .any,
                        ])),
                    "enrolledFactors": .list(.object(["type": .string, "options": .any])),
                ])),
        "stats": .object(["logins_count": .number]),
        "connection": .object(merge(strings("id", "name", "strategy"), ["metadata": .map(.string)])),
        "client": .object(
            merge(
                strings("client_id", "name", "external_client_id", "external_metadata_type"),
                [
                    "metadata": .map(.string), "authentication": .any, "refresh_token": .any,
                ])),
        "request": .object(
            merge(
                strings("ip", "method", "hostname", "language", "user_agent", "asn"),
                [
                    "query": .any, "body": .any,
                    "geoip": .object(
                        merge(
                            strings(
                                "cityName", "continentCode", "countryCode", "countryCode3", "countryName",
                                "subdivisionCode", "subdivisionName", "timeZone"),
                            ["latitude": .number, "longitude": .number])),
                ])),
        "authorization": .object(["roles": .list(.string)]),
        "organization": .object(merge(strings("id", "name", "display_name"), ["metadata": .map(.string)])),
        "tenant": .object(["id": .string]),
        "transaction": .object(
            merge(
                strings(
                    "id", "locale", "protocol", "redirect_uri", "response_mode", "state", "login_hint", "linking_id",
                    "correlation_id", "subject_token_type", "actor_token_type"),
                [
                    "acr_values": .list(.string), "requested_scopes": .list(.string), "ui_locales": .list(.string),
                    "prompt": .list(.string), "response_type": .list(.string), "metadata": .any,
                    "requested_authorization_details": .list(.any), "actor": .any,
                ])),
        "authentication": .object([
            "methods": .list(.object(["name": .string, "timestamp": .string, "type": .string])),
            "riskAssessment": .any,
        ]),
        "resource_server": .object(["identifier": .string]),
        "custom_domain": .object(["domain": .string, "domain_metadata": .map(.string)]),
        "session": .any, "refresh_token": .any, "security_context": .any, "prompt": .any, "agent": .any,
        "anonymous_session": .any, "experiment": .any, "session_transfer_token": .any,
        "secrets": .map(.string), "configuration": .map(.string),
    ])

    /// The names a path may start with: the top-level fields and the aliases.
    public static let rootNames: [String] = {
        guard case .object(let fields) = root else { return [] }
        return fields.keys.sorted() + aliases.keys.sorted()
    }()
}
