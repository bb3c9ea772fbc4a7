package app

// SafeFileName lets the external tests check the names MediaFile gives.
var SafeFileName = safeFileName
