import Foundation
import PitlaneCore
import Testing

struct TokenExpiryTests {
    static let expiry = Date(timeIntervalSince1970: 1_800_000_600)

    @Test(arguments: [
        "https://cdn.example.com/live.m3u8?exp=1800000600&sig=abc",
        "https://cdn.example.com/live.m3u8?Expires=1800000600&Signature=x&Key-Pair-Id=y",
        "https://cdn.example.com/live.m3u8?e=1800000600&s=abc",
        "https://cdn.example.com/live.m3u8?exp=1800000600000",
        "https://cdn.example.com/live.m3u8?hdnts=st=1800000000~exp=1800000600~acl=/*~hmac=abc",
        "https://cdn.example.com/live.m3u8?hdnts=st%3D1800000000~exp%3D1800000600~acl%3D%2F*~hmac%3Dabc",
        "https://cdn.example.com/token/expires/1800000600/live.m3u8",
        "https://cdn.example.com/live.m3u8?token=eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4MDAwMDA2MDAsInN1YiI6IngifQ.c2ln",
        "https://cdn.example.com/eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4MDAwMDA2MDAsInN1YiI6IngifQ.c2ln/live.m3u8",
        "https://cdn.example.com/live.m3u8?exp=1800009999&e2=1&expires=1800000600",
    ])
    func findsTheExpiry(_ url: String) {
        #expect(TokenExpiry.expiry(of: URL(string: url)!) == Self.expiry)
    }

    @Test(arguments: [
        "https://cdn.example.com/live.m3u8",
        "https://cdn.example.com/live.m3u8?e=1&quality=hd",
        "https://cdn.example.com/live.m3u8?exp=tomorrow",
        "https://cdn.example.com/expires/live.m3u8",
        "https://cdn.example.com/live.m3u8?token=not.a.jwt",
    ])
    func findsNoneWhereThereIsNone(_ url: String) {
        #expect(TokenExpiry.expiry(of: URL(string: url)!) == nil)
    }
}
