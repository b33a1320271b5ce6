import Foundation
import RolecallEngine
import RolecallLanguage

/// The rule set the event and suite targets evaluate against: the examples in `rules/` plus ``extraRules``, which
/// use every operator, function and kind of path the examples do not.
public enum FixedRules {
    /// The repository's root, found from this file's path (the fuzz targets run where they were built).
    public static let repositoryRoot: String = {
        let file = #filePath
        guard let range = file.range(of: "/fuzz/Sources/") else {
            fatalError("FuzzSupport is not under fuzz/Sources/ (at \(file))")
        }
        return String(file[..<range.lowerBound])
    }()

    /// The rules the examples leave out: every comparator, function, literal kind and path shape.
    public static let extraRules = #"""
        rule "lower email domain"
        when lower(user.email) ends_with "@acme.com" and user.email_verified == true
        assign "staff"

        rule "upper name or many identities"
        when upper(user.name) starts_with "A" or length(user.identities) > 1
        assign "multi"

        rule "first identity"
        when user.identities[0].provider == "google-oauth2" and stats.logins_count >= -1
        assign "google"

        rule "team"
        when lower(user.app_metadata["x-team"]) contains "plat" and not (user.app_metadata.blocked == true)
        assign "platform"

        rule "counts"
        when logins_count < 10 and logins_count != 3 and user.app_metadata.score <= 2.5e3
        assign "new"

        rule "patterns"
        when user.email matches /^[a-z]+(\.[a-z]+)*@(acme|example)\.(com|org)$/i or user.name matches "^ad+a$"
        assign "pattern"

        rule "lists"
        when connection.strategy not in ["auth0", "email"] and user.app_metadata.levels contains 2
        assign "list"
        revoke "member"

        rule "nulls"
        when user.app_metadata.missing == null and request.geoip.countryCode != null
        revoke "eu"

        rule "always"
        assign "rol_0123456789abcdef"

        let mfa_today = any(authentication.methods, m, m.name == "mfa" and days_since(m.timestamp) < 1)
        let socials = all(user.identities, i, i.isSocial == false or i.profileData.email ends_with "@x.com")

        rule "quantifiers"
        when mfa_today and socials and any(user.app_metadata.nested, l, any(l, x, x == 1 or x.k[0] == "v"))
        assign "quantified"

        rule "reset"
        when user.app_metadata.reset == true or days_since(user.app_metadata.since) >= 0
        revoke all except "member", "rol_0123456789abcdef"
        assign "reset"

        # The benchmark's rules (bench/roles.rules): each a step of a kind the plans specialise (a string set, a
        # suffix set, a substring search, number comparisons, "x" in a list), held to --explain by the target.
        rule "b member"   when stats.logins_count == 1 assign "b-member"
        rule "b staff"    when user.email matches /@acme\.com$/ and user.email_verified assign "b-staff"
        rule "b admin"    when "admin" in user.app_metadata.groups assign "b-admin"
        rule "b eu"       when request.geoip.countryCode in ["AT","BE","DE","DK","ES","FI","FR","IE","IT","NL","PL","PT","SE"] assign "b-eu"
        rule "b google"   when connection.strategy == "google-oauth2" and stats.logins_count > 10 assign "b-google"
        rule "b consumer" when user.email matches /@(gmail|yahoo|hotmail|outlook)\.com$/ and not user.email_verified assign "b-consumer"
        rule "b finance"  when "billing" in user.app_metadata.groups or "finance" in user.app_metadata.groups assign "b-finance"
        rule "b mobile"   when request.user_agent matches /(iPhone|Android)/ assign "b-mobile"
        rule "b power"    when stats.logins_count >= 100 and user.app_metadata.plan == "enterprise" assign "b-power"
        rule "b sso"      when connection.strategy in ["samlp","waad","adfs","oidc"] and user.email_verified assign "b-sso"

        when "member" in authorization.roles and user.app_metadata.in[1].and == false
        revoke "sso"
        stop
        """#

    /// The clock the fuzz targets evaluate with (2026-11-30T00:00:00Z).
    public static let clock = 1_795_996_800.0

    /// The rule files: the examples, then ``extraRules``.
    public static let files: [SourceFile] = {
        let directory = repositoryRoot + "/rules"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".rules") }
        } catch {
            fatalError("cannot list the example rules in \(directory): \(error)")
        }
        var files = names.sorted().map { name in
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                fatalError("cannot read \(path)")
            }
            return SourceFile(path: path, bytes: Array(data))
        }
        files.append(SourceFile(path: "fuzz-extra.rules", text: extraRules))
        return files
    }()

    /// The bytes of the example event `rules/events/NAME`.
    public static func exampleEvent(_ name: String) -> [UInt8] {
        let path = repositoryRoot + "/rules/events/" + name
        guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
        return Array(data)
    }

    /// The compiled rule set; a rule error here is a broken harness, so it stops the run with the diagnostics.
    public static let program: Program = {
        let (program, diagnostics) = RuleEngine.compile(files)
        guard let program else {
            fatalError("the fixed rule set does not compile:\n" + diagnostics.map(\.message).joined(separator: "\n"))
        }
        return program
    }()
}
