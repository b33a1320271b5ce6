import FuzzSupport

/// The event a rule file that compiles is evaluated on.
enum LanguageFixture {
    /// An example event with most of the fields rules read (email, metadata, identities, geoip, roles).
    static let event = FixedRules.exampleEvent("acme-admin.json")
}
