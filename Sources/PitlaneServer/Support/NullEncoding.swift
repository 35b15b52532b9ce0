/// The API writes every field, with null for what is unknown, so clients never have to tell "absent" from
/// "unknown"; Swift's synthesized Codable would leave nil fields out.
extension KeyedEncodingContainer {
    mutating func encodeEach(_ pairs: KeyValuePairs<Key, (any Encodable)?>) throws {
        for (key, value) in pairs {
            if let value {
                try encode(value, forKey: key)
            } else {
                try encodeNil(forKey: key)
            }
        }
    }
}
