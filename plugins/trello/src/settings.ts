/** The plugin's settings, as declared in package.json. */
export interface Settings {
  'trello.apiBaseUrl': string;
  'trello.publicBaseUrl': string;
  'trello.retryDelaySeconds': number;
  'trello.maxAttempts': number;
}
