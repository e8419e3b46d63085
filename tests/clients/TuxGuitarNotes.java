// Prints every note TuxGuitar reads from Guitar Pro 3-5 files, one line per note, so that the tab
// codec's tests can compare what TuxGuitar sees with what the project wrote. Headless: it loads
// TuxGuitar's own Guitar Pro readers from its jars and never starts the editor.
//
//   javac -cp "/usr/share/tuxguitar/lib/*:/usr/share/tuxguitar/plugins/*" -d OUT TuxGuitarNotes.java
//   java -cp "/usr/share/tuxguitar/lib/*:/usr/share/tuxguitar/plugins/*:OUT" TuxGuitarNotes a.gp5 …
//
// Output, per file:  "file PATH", then for the track asked for (first non-percussion track by
// default, or "--track N" counting from 1) "tuning P1 P2 …" (highest string first) and one
// "note TICK STRING FRET PITCH KIND" per note, TICK counted at 960 a quarter from the first bar,
// STRING counted from the highest (1), KIND one of normal, tie, dead; "error MESSAGE" if the file
// cannot be read.

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Iterator;
import org.herac.tuxguitar.io.base.TGSongReaderHandle;
import org.herac.tuxguitar.io.gtp.GP3InputStream;
import org.herac.tuxguitar.io.gtp.GP4InputStream;
import org.herac.tuxguitar.io.gtp.GP5InputStream;
import org.herac.tuxguitar.io.gtp.GTPInputStream;
import org.herac.tuxguitar.io.gtp.GTPSettings;
import org.herac.tuxguitar.song.factory.TGFactory;
import org.herac.tuxguitar.song.models.TGBeat;
import org.herac.tuxguitar.song.models.TGMeasure;
import org.herac.tuxguitar.song.models.TGNote;
import org.herac.tuxguitar.song.models.TGSong;
import org.herac.tuxguitar.song.models.TGString;
import org.herac.tuxguitar.song.models.TGTrack;
import org.herac.tuxguitar.song.models.TGVoice;

public class TuxGuitarNotes {
  public static void main(String[] args) throws Exception {
    int wanted = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--track")) {
        wanted = Integer.parseInt(args[++i]);
        continue;
      }
      System.out.println("file " + args[i]);
      try {
        print(read(Files.readAllBytes(Paths.get(args[i]))), wanted);
      } catch (Exception e) {
        System.out.println("error " + e.getClass().getSimpleName() + " " + e.getMessage());
      }
    }
  }

  // Each Guitar Pro reader refuses files of other versions, so try them in turn.
  static TGSong read(byte[] bytes) throws Exception {
    GTPSettings settings = new GTPSettings();
    GTPInputStream[] readers = {
      new GP5InputStream(settings), new GP4InputStream(settings), new GP3InputStream(settings)
    };
    Exception last = null;
    for (GTPInputStream reader : readers) {
      TGSongReaderHandle handle = new TGSongReaderHandle();
      handle.setFactory(new TGFactory());
      handle.setInputStream(new BufferedInputStream(new ByteArrayInputStream(bytes)));
      try {
        reader.read(handle);
        return handle.getSong();
      } catch (Exception e) {
        last = e;
      }
    }
    throw last;
  }

  static void print(TGSong song, int wanted) {
    TGTrack track = null;
    int number = 0;
    for (Iterator<TGTrack> it = song.getTracks(); it.hasNext(); ) {
      TGTrack candidate = it.next();
      number++;
      boolean drums = song.getChannel(0) != null && isPercussion(song, candidate);
      if ((wanted == 0 && !drums) || number == wanted) {
        track = candidate;
        break;
      }
    }
    if (track == null) {
      System.out.println("error no such track");
      return;
    }
    StringBuilder tuning = new StringBuilder("tuning");
    for (TGString string : track.getStrings()) tuning.append(' ').append(string.getValue());
    System.out.println(tuning);
    long origin = -1;
    for (Iterator<TGMeasure> it = track.getMeasures(); it.hasNext(); ) {
      TGMeasure measure = it.next();
      if (origin < 0) origin = measure.getStart();
      for (TGBeat beat : measure.getBeats()) {
        for (int v = 0; v < beat.countVoices(); v++) {
          TGVoice voice = beat.getVoice(v);
          for (TGNote note : voice.getNotes()) {
            TGString string = track.getString(note.getString());
            String kind =
                note.isTiedNote() ? "tie" : note.getEffect().isDeadNote() ? "dead" : "normal";
            System.out.println(
                "note " + (beat.getStart() - origin) + " " + note.getString() + " "
                    + note.getValue() + " " + (string.getValue() + note.getValue()) + " " + kind);
          }
        }
      }
    }
  }

  static boolean isPercussion(TGSong song, TGTrack track) {
    for (Iterator<?> it = song.getChannels(); it.hasNext(); ) {
      org.herac.tuxguitar.song.models.TGChannel channel =
          (org.herac.tuxguitar.song.models.TGChannel) it.next();
      if (channel.getChannelId() == track.getChannelId()) return channel.isPercussionChannel();
    }
    return false;
  }
}
