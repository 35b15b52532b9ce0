public enum PitlaneVersion { public static let string = "0.1.0" }
