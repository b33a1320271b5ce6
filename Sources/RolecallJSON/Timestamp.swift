/// RFC 3339 timestamps (`2026-11-30T09:15:00Z`, `2026-11-30T10:15:00.250+01:00`), the one parser for the
/// evaluation clock (`--now`, `now:` in suites) and for `days_since` in rules.
public enum Timestamp {
    /// Seconds since the Unix epoch of an RFC 3339 date-time, or nil when `text` is not one.
    ///
    /// The full `date-time` of RFC 3339 section 5.6: `T` or `t` (or a space, as its note allows) between date and
    /// time, any number of fractional digits, `Z`, `z` or a numeric offset. Every field is range-checked,
    /// including the day against its month in leap years; a leap second (`:60`) counts as the second before it.
    public static func seconds<Bytes: Collection<UInt8>>(_ text: Bytes) -> Double? where Bytes.Index == Int {
        let bytes = text
        var position = bytes.startIndex
        func digits(_ count: Int) -> Int? {
            guard bytes.endIndex - position >= count else { return nil }
            var value = 0
            for _ in 0..<count {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                position += 1
            }
            return value
        }
        func literal(_ allowed: UInt8...) -> Bool {
            guard position < bytes.endIndex, allowed.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = digits(4), literal(UInt8(ascii: "-")), let month = digits(2), literal(UInt8(ascii: "-")),
            let day = digits(2), literal(UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")),
            let hour = digits(2), literal(UInt8(ascii: ":")), let minute = digits(2), literal(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        var fraction = 0.0
        if literal(UInt8(ascii: ".")) {
            var scale = 0.1
            let first = position
            while position < bytes.endIndex, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9")
            {
                fraction += Double(bytes[position] - UInt8(ascii: "0")) * scale
                scale /= 10
                position += 1
            }
            guard position > first else { return nil }
        }
        var offset = 0
        if literal(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
        } else if position < bytes.endIndex,
            bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
        {
            let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            position += 1
            guard let hours = digits(2), literal(UInt8(ascii: ":")), let minutes = digits(2), hours <= 23, minutes <= 59
            else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard position == bytes.endIndex else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Double(seconds) + fraction
    }

    /// ``seconds(_:)`` of a string.
    public static func seconds(_ text: String) -> Double? { seconds(Array(text.utf8)) }

    /// The timestamp as RFC 3339 in UTC with milliseconds: `2026-11-30T09:15:00.000Z`.
    public static func format(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded(.down))
        let (days, dayMillis) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (dayNumber, millis) = dayMillis < 0 ? (days - 1, dayMillis + 86_400_000) : (days, dayMillis)
        let (year, month, day) = civilFromDays(dayNumber)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(millis / 3_600_000, 2)):"
            + "\(pad(millis / 60_000 % 60, 2)):\(pad(millis / 1000 % 60, 2)).\(pad(millis % 1000, 3))Z"
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day number since 1970-01-01 (the inverse of ``daysFromCivil(year:month:day:)``).
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
