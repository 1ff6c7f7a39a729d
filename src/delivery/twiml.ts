import twilio from "twilio";
import type { VoiceScript } from "./templates.js";

/**
 * The TwiML a verification call plays, built with the `twilio` package's VoiceResponse (which escapes
 * the service name and everything else into valid XML):
 *
 *   <Say>Your Acme verification code is:</Say> <Pause/> <Say>4, 0, 7, 1, 9, 2.</Say>
 *   <Pause/> <Say>Again, your code is:</Say> <Say>4, 0, 7, 1, 9, 2.</Say> … <Say>Do not share …</Say>
 *
 * Digits are separated so text-to-speech reads them one by one ("four, zero, seven", never "four
 * hundred seven thousand"), and the whole code is read {@link VoiceScript.times} times with pauses,
 * since callers reach for a pen during the first reading. Every <Say> carries the locale's voice and
 * language. https://www.twilio.com/docs/voice/twiml/say
 */
export function buildVoiceTwiml(script: VoiceScript): string {
  const response = new twilio.twiml.VoiceResponse();
  const say = (text: string) => response.say({ voice: script.voice, language: script.language }, text);
  response.pause({ length: 1 });
  say(script.intro);
  for (let i = 0; i < script.times; i++) {
    if (i > 0) say(script.repeat);
    response.pause({ length: 1 });
    say(script.digits + ".");
    response.pause({ length: 2 });
  }
  say(script.warning);
  return response.toString();
}
