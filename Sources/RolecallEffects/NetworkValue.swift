/// Numbers and dates from a server's headers and bodies, read defensively: a value that is not a number, is
/// infinite, NaN, negative or out of range is nil ("unknown"), never a trap and never a wait of a century.
public enum NetworkValue {
    /// The latest Unix time taken as real: the end of year 9999.
    public static let latestTime = 253_402_300_799.0

    /// A count such as `x-ratelimit-remaining`: 1 to 18 ASCII digits, nothing else.
    public static func count(_ text: String?) -> Int? {
        guard let text = text.map(Self.trimmed), (1...18).contains(text.utf8.count),
            text.utf8.allSatisfy({ (48...57).contains($0) })
        else { return nil }
        return Int(text)
    }

    /// A Unix time in seconds such as `x-ratelimit-reset`: finite, from 0 to ``latestTime``.
    public static func unixTime(_ text: String?) -> Double? {
        guard let text = text.map(Self.trimmed), text.utf8.count <= 32, let value = Double(text), value.isFinite,
            (0...latestTime).contains(value)
        else { return nil }
        return value
    }

    /// The seconds a `Retry-After` header asks to wait at Unix time `now`: delta-seconds (1 to 12 ASCII digits,
    /// as HTTP defines them: no sign, fraction, exponent, hex or `inf`) or an HTTP-date minus now, at least
    /// `dateFloor` (by default a date in the past means no wait).
    public static func retryAfter(_ text: String?, now: Double, dateFloor: Double = 0) -> Double? {
        guard let text = text.map(Self.trimmed), !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if text.utf8.allSatisfy({ (48...57).contains($0) }) {
            return text.utf8.count <= 12 ? Double(text) : nil
        }
        guard let date = httpDate(text), now.isFinite else { return nil }
        return max(dateFloor, date - now)
    }

    /// A whole number from a JSON body (`total`, `expires_in`), if it is finite and within `range`; fractions
    /// are rounded down.
    public static func integer(_ value: Double?, in range: ClosedRange<Int>) -> Int? {
        guard let value, value.isFinite, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            return nil
        }
        return Int(value.rounded(.down))
    }

    /// The Unix time of an HTTP-date in any of the three forms HTTP allows: IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`). Nil when it is none of them or names an impossible time.
    public static func httpDate(_ text: String) -> Double? {
        let tokens = text.split { $0 == " " || $0 == "," || $0 == "-" }.map(String.init)
        let day: Int?
        let monthName: String
        var year: Int?
        let time: String
        switch tokens.count {
        case 6 where tokens[5] == "GMT":  // IMF-fixdate or RFC 850
            day = Int(tokens[1])
            monthName = tokens[2]
            time = tokens[4]
            if tokens[3].count == 4 {
                year = Int(tokens[3])
            } else if tokens[3].count == 2, let short = Int(tokens[3]) {
                year = short < 70 ? 2000 + short : 1900 + short
            }
        case 5:  // asctime
            monthName = tokens[1]
            day = Int(tokens[2])
            time = tokens[3]
            year = tokens[4].count == 4 ? Int(tokens[4]) : nil
        default: return nil
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard let month = months.firstIndex(of: monthName).map({ $0 + 1 }), let day, let year,
            (1970...9999).contains(year), (1...daysIn(month: month, year: year)).contains(day), clock.count == 3,
            clock.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }), let hour = Int(clock[0]),
            let minute = Int(clock[1]), let second = Int(clock[2]), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3_600 + minute * 60 + second)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (counting years from March, so the
    /// leap day comes last).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = shifted / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: " \t") }
}
